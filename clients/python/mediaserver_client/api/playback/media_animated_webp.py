from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_body import ErrorBody
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    id: str,
    *,
    token: str | Unset = UNSET,
    start: float | Unset = UNSET,
    end: float | Unset = UNSET,
    width: int | Unset = UNSET,
    fps: int | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["token"] = token

    params["start"] = start

    params["end"] = end

    params["width"] = width

    params["fps"] = fps


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/media/{id}/animated.webp".format(id=quote(str(id), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | ErrorBody | None:
    if response.status_code == 200:
        response_200 = cast(Any, None)
        return response_200

    if response.status_code == 206:
        response_206 = cast(Any, None)
        return response_206

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = ErrorBody.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())



        return response_404

    if response.status_code == 416:
        response_416 = ErrorBody.from_dict(response.json())



        return response_416

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | ErrorBody]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    token: str | Unset = UNSET,
    start: float | Unset = UNSET,
    end: float | Unset = UNSET,
    width: int | Unset = UNSET,
    fps: int | Unset = UNSET,

) -> Response[Any | ErrorBody]:
    """ 
    Args:
        id (str):
        token (str | Unset):
        start (float | Unset):
        end (float | Unset):
        width (int | Unset):
        fps (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorBody]
     """


    kwargs = _get_kwargs(
        id=id,
token=token,
start=start,
end=end,
width=width,
fps=fps,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    token: str | Unset = UNSET,
    start: float | Unset = UNSET,
    end: float | Unset = UNSET,
    width: int | Unset = UNSET,
    fps: int | Unset = UNSET,

) -> Any | ErrorBody | None:
    """ 
    Args:
        id (str):
        token (str | Unset):
        start (float | Unset):
        end (float | Unset):
        width (int | Unset):
        fps (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorBody
     """


    return sync_detailed(
        id=id,
client=client,
token=token,
start=start,
end=end,
width=width,
fps=fps,

    ).parsed

async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    token: str | Unset = UNSET,
    start: float | Unset = UNSET,
    end: float | Unset = UNSET,
    width: int | Unset = UNSET,
    fps: int | Unset = UNSET,

) -> Response[Any | ErrorBody]:
    """ 
    Args:
        id (str):
        token (str | Unset):
        start (float | Unset):
        end (float | Unset):
        width (int | Unset):
        fps (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorBody]
     """


    kwargs = _get_kwargs(
        id=id,
token=token,
start=start,
end=end,
width=width,
fps=fps,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    token: str | Unset = UNSET,
    start: float | Unset = UNSET,
    end: float | Unset = UNSET,
    width: int | Unset = UNSET,
    fps: int | Unset = UNSET,

) -> Any | ErrorBody | None:
    """ 
    Args:
        id (str):
        token (str | Unset):
        start (float | Unset):
        end (float | Unset):
        width (int | Unset):
        fps (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorBody
     """


    return (await asyncio_detailed(
        id=id,
client=client,
token=token,
start=start,
end=end,
width=width,
fps=fps,

    )).parsed
