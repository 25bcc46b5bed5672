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
    name: str,
    *,
    token: str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["token"] = token


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/media/{id}/downloads/{name}".format(id=quote(str(id), safe=""),name=quote(str(name), safe=""),),
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
    name: str,
    *,
    client: AuthenticatedClient,
    token: str | Unset = UNSET,

) -> Response[Any | ErrorBody]:
    """ One of the item's downloads (its `downloads[].url`): an MP4 of a rung (`720p`…, H.264 + AAC,
    `moov` first) or the M4A (`audio`), as an attachment named after the title. Access: the
    item's visibility, a login, or `?token=`. Supports HEAD, Range and If-None-Match.

    Args:
        id (str):
        name (str):
        token (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorBody]
     """


    kwargs = _get_kwargs(
        id=id,
name=name,
token=token,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id: str,
    name: str,
    *,
    client: AuthenticatedClient,
    token: str | Unset = UNSET,

) -> Any | ErrorBody | None:
    """ One of the item's downloads (its `downloads[].url`): an MP4 of a rung (`720p`…, H.264 + AAC,
    `moov` first) or the M4A (`audio`), as an attachment named after the title. Access: the
    item's visibility, a login, or `?token=`. Supports HEAD, Range and If-None-Match.

    Args:
        id (str):
        name (str):
        token (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorBody
     """


    return sync_detailed(
        id=id,
name=name,
client=client,
token=token,

    ).parsed

async def asyncio_detailed(
    id: str,
    name: str,
    *,
    client: AuthenticatedClient,
    token: str | Unset = UNSET,

) -> Response[Any | ErrorBody]:
    """ One of the item's downloads (its `downloads[].url`): an MP4 of a rung (`720p`…, H.264 + AAC,
    `moov` first) or the M4A (`audio`), as an attachment named after the title. Access: the
    item's visibility, a login, or `?token=`. Supports HEAD, Range and If-None-Match.

    Args:
        id (str):
        name (str):
        token (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorBody]
     """


    kwargs = _get_kwargs(
        id=id,
name=name,
token=token,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id: str,
    name: str,
    *,
    client: AuthenticatedClient,
    token: str | Unset = UNSET,

) -> Any | ErrorBody | None:
    """ One of the item's downloads (its `downloads[].url`): an MP4 of a rung (`720p`…, H.264 + AAC,
    `moov` first) or the M4A (`audio`), as an attachment named after the title. Access: the
    item's visibility, a login, or `?token=`. Supports HEAD, Range and If-None-Match.

    Args:
        id (str):
        name (str):
        token (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorBody
     """


    return (await asyncio_detailed(
        id=id,
name=name,
client=client,
token=token,

    )).parsed
