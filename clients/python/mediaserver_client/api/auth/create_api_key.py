from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.created_api_key import CreatedApiKey
from ...models.error_body import ErrorBody
from ...models.new_api_key import NewApiKey
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    body: NewApiKey | None | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/api-keys",
    }

    
    if isinstance(body, NewApiKey):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> CreatedApiKey | ErrorBody | None:
    if response.status_code == 201:
        response_201 = CreatedApiKey.from_dict(response.json())



        return response_201

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = ErrorBody.from_dict(response.json())



        return response_403

    if response.status_code == 413:
        response_413 = ErrorBody.from_dict(response.json())



        return response_413

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[CreatedApiKey | ErrorBody]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: NewApiKey | None | Unset = UNSET,

) -> Response[CreatedApiKey | ErrorBody]:
    """ Create an API key for the caller, usable as a Bearer token. The key is shown once. It may
    expire (`expires_in_seconds`) and be limited to some scopes: `read` (see items, play them,
    list keys), `upload` (one-request, tus and direct uploads), `write` (change or delete one's
    items, revoke keys), `admin` (administer; admins only). A request needing a scope the key
    lacks is refused with 403 `insufficient_scope`.

    Args:
        body (NewApiKey | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreatedApiKey | ErrorBody]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body: NewApiKey | None | Unset = UNSET,

) -> CreatedApiKey | ErrorBody | None:
    """ Create an API key for the caller, usable as a Bearer token. The key is shown once. It may
    expire (`expires_in_seconds`) and be limited to some scopes: `read` (see items, play them,
    list keys), `upload` (one-request, tus and direct uploads), `write` (change or delete one's
    items, revoke keys), `admin` (administer; admins only). A request needing a scope the key
    lacks is refused with 403 `insufficient_scope`.

    Args:
        body (NewApiKey | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreatedApiKey | ErrorBody
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: NewApiKey | None | Unset = UNSET,

) -> Response[CreatedApiKey | ErrorBody]:
    """ Create an API key for the caller, usable as a Bearer token. The key is shown once. It may
    expire (`expires_in_seconds`) and be limited to some scopes: `read` (see items, play them,
    list keys), `upload` (one-request, tus and direct uploads), `write` (change or delete one's
    items, revoke keys), `admin` (administer; admins only). A request needing a scope the key
    lacks is refused with 403 `insufficient_scope`.

    Args:
        body (NewApiKey | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreatedApiKey | ErrorBody]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body: NewApiKey | None | Unset = UNSET,

) -> CreatedApiKey | ErrorBody | None:
    """ Create an API key for the caller, usable as a Bearer token. The key is shown once. It may
    expire (`expires_in_seconds`) and be limited to some scopes: `read` (see items, play them,
    list keys), `upload` (one-request, tus and direct uploads), `write` (change or delete one's
    items, revoke keys), `admin` (administer; admins only). A request needing a scope the key
    lacks is refused with 403 `insufficient_scope`.

    Args:
        body (NewApiKey | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreatedApiKey | ErrorBody
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
