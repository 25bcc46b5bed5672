from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_body import ErrorBody
from ...models.library_page import LibraryPage
from ...models.list_media_sort import ListMediaSort
from ...models.media_kind import MediaKind
from ...models.media_status import MediaStatus
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    kind: MediaKind | Unset = UNSET,
    status: MediaStatus | Unset = UNSET,
    q: str | Unset = UNSET,
    sha256: str | Unset = UNSET,
    sort: ListMediaSort | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["cursor"] = cursor

    json_kind: str | Unset = UNSET
    if not isinstance(kind, Unset):
        json_kind = kind.value

    params["kind"] = json_kind

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    params["q"] = q

    params["sha256"] = sha256

    json_sort: str | Unset = UNSET
    if not isinstance(sort, Unset):
        json_sort = sort.value

    params["sort"] = json_sort


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/media",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorBody | LibraryPage | None:
    if response.status_code == 200:
        response_200 = LibraryPage.from_dict(response.json())



        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = ErrorBody.from_dict(response.json())



        return response_403

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ErrorBody | LibraryPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    kind: MediaKind | Unset = UNSET,
    status: MediaStatus | Unset = UNSET,
    q: str | Unset = UNSET,
    sha256: str | Unset = UNSET,
    sort: ListMediaSort | Unset = UNSET,

) -> Response[ErrorBody | LibraryPage]:
    """ The caller's media items (admins: everyone's), newest first unless `sort` says otherwise;
    filtered by kind, status, title (`q`) or the original's SHA-256.

    Args:
        limit (int | Unset):
        cursor (str | Unset):
        kind (MediaKind | Unset): What a media item is, decided from its bytes.
        status (MediaStatus | Unset): Where a media item is in its life.
        q (str | Unset):
        sha256 (str | Unset):
        sort (ListMediaSort | Unset): The order of a list of items: `newest` (first; the default),
            `oldest`, `title` (A–Z,
            case-insensitive), `size` (largest first); ties in id order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | LibraryPage]
     """


    kwargs = _get_kwargs(
        limit=limit,
cursor=cursor,
kind=kind,
status=status,
q=q,
sha256=sha256,
sort=sort,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    kind: MediaKind | Unset = UNSET,
    status: MediaStatus | Unset = UNSET,
    q: str | Unset = UNSET,
    sha256: str | Unset = UNSET,
    sort: ListMediaSort | Unset = UNSET,

) -> ErrorBody | LibraryPage | None:
    """ The caller's media items (admins: everyone's), newest first unless `sort` says otherwise;
    filtered by kind, status, title (`q`) or the original's SHA-256.

    Args:
        limit (int | Unset):
        cursor (str | Unset):
        kind (MediaKind | Unset): What a media item is, decided from its bytes.
        status (MediaStatus | Unset): Where a media item is in its life.
        q (str | Unset):
        sha256 (str | Unset):
        sort (ListMediaSort | Unset): The order of a list of items: `newest` (first; the default),
            `oldest`, `title` (A–Z,
            case-insensitive), `size` (largest first); ties in id order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | LibraryPage
     """


    return sync_detailed(
        client=client,
limit=limit,
cursor=cursor,
kind=kind,
status=status,
q=q,
sha256=sha256,
sort=sort,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    kind: MediaKind | Unset = UNSET,
    status: MediaStatus | Unset = UNSET,
    q: str | Unset = UNSET,
    sha256: str | Unset = UNSET,
    sort: ListMediaSort | Unset = UNSET,

) -> Response[ErrorBody | LibraryPage]:
    """ The caller's media items (admins: everyone's), newest first unless `sort` says otherwise;
    filtered by kind, status, title (`q`) or the original's SHA-256.

    Args:
        limit (int | Unset):
        cursor (str | Unset):
        kind (MediaKind | Unset): What a media item is, decided from its bytes.
        status (MediaStatus | Unset): Where a media item is in its life.
        q (str | Unset):
        sha256 (str | Unset):
        sort (ListMediaSort | Unset): The order of a list of items: `newest` (first; the default),
            `oldest`, `title` (A–Z,
            case-insensitive), `size` (largest first); ties in id order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | LibraryPage]
     """


    kwargs = _get_kwargs(
        limit=limit,
cursor=cursor,
kind=kind,
status=status,
q=q,
sha256=sha256,
sort=sort,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    kind: MediaKind | Unset = UNSET,
    status: MediaStatus | Unset = UNSET,
    q: str | Unset = UNSET,
    sha256: str | Unset = UNSET,
    sort: ListMediaSort | Unset = UNSET,

) -> ErrorBody | LibraryPage | None:
    """ The caller's media items (admins: everyone's), newest first unless `sort` says otherwise;
    filtered by kind, status, title (`q`) or the original's SHA-256.

    Args:
        limit (int | Unset):
        cursor (str | Unset):
        kind (MediaKind | Unset): What a media item is, decided from its bytes.
        status (MediaStatus | Unset): Where a media item is in its life.
        q (str | Unset):
        sha256 (str | Unset):
        sort (ListMediaSort | Unset): The order of a list of items: `newest` (first; the default),
            `oldest`, `title` (A–Z,
            case-insensitive), `size` (largest first); ties in id order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | LibraryPage
     """


    return (await asyncio_detailed(
        client=client,
limit=limit,
cursor=cursor,
kind=kind,
status=status,
q=q,
sha256=sha256,
sort=sort,

    )).parsed
