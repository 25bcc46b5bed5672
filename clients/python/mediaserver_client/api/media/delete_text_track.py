from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_body import ErrorBody
from typing import cast



def _get_kwargs(
    id: str,
    track_id: str,

) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/v1/media/{id}/text-tracks/{track_id}".format(id=quote(str(id), safe=""),track_id=quote(str(track_id), safe=""),),
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | ErrorBody | None:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = ErrorBody.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())



        return response_404

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())



        return response_409

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())



        return response_503

    if response.status_code == 507:
        response_507 = ErrorBody.from_dict(response.json())



        return response_507

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
    track_id: str,
    *,
    client: AuthenticatedClient,

) -> Response[Any | ErrorBody]:
    """ Delete an uploaded text track with its files: it leaves the item's manifests at once. A track from
    the
    source's own subtitle streams cannot be deleted (409). Owner or admin.

    Args:
        id (str):
        track_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorBody]
     """


    kwargs = _get_kwargs(
        id=id,
track_id=track_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id: str,
    track_id: str,
    *,
    client: AuthenticatedClient,

) -> Any | ErrorBody | None:
    """ Delete an uploaded text track with its files: it leaves the item's manifests at once. A track from
    the
    source's own subtitle streams cannot be deleted (409). Owner or admin.

    Args:
        id (str):
        track_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorBody
     """


    return sync_detailed(
        id=id,
track_id=track_id,
client=client,

    ).parsed

async def asyncio_detailed(
    id: str,
    track_id: str,
    *,
    client: AuthenticatedClient,

) -> Response[Any | ErrorBody]:
    """ Delete an uploaded text track with its files: it leaves the item's manifests at once. A track from
    the
    source's own subtitle streams cannot be deleted (409). Owner or admin.

    Args:
        id (str):
        track_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorBody]
     """


    kwargs = _get_kwargs(
        id=id,
track_id=track_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id: str,
    track_id: str,
    *,
    client: AuthenticatedClient,

) -> Any | ErrorBody | None:
    """ Delete an uploaded text track with its files: it leaves the item's manifests at once. A track from
    the
    source's own subtitle streams cannot be deleted (409). Owner or admin.

    Args:
        id (str):
        track_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorBody
     """


    return (await asyncio_detailed(
        id=id,
track_id=track_id,
client=client,

    )).parsed
