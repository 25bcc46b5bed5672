from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.delete_upload_tus_resumable import DeleteUploadTusResumable
from ...models.error_body import ErrorBody
from typing import cast



def _get_kwargs(
    id: str,
    *,
    tus_resumable: DeleteUploadTusResumable,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["Tus-Resumable"] = str(tus_resumable)




    

    

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/v1/uploads/{id}".format(id=quote(str(id), safe=""),),
    }


    _kwargs["headers"] = headers
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

    if response.status_code == 412:
        response_412 = ErrorBody.from_dict(response.json())



        return response_412

    if response.status_code == 423:
        response_423 = ErrorBody.from_dict(response.json())



        return response_423

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
    *,
    client: AuthenticatedClient,
    tus_resumable: DeleteUploadTusResumable,

) -> Response[Any | ErrorBody]:
    """ Abandon an upload: its bytes and record are removed (tus termination).

    Args:
        id (str):
        tus_resumable (DeleteUploadTusResumable): The only tus version this server speaks.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorBody]
     """


    kwargs = _get_kwargs(
        id=id,
tus_resumable=tus_resumable,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    tus_resumable: DeleteUploadTusResumable,

) -> Any | ErrorBody | None:
    """ Abandon an upload: its bytes and record are removed (tus termination).

    Args:
        id (str):
        tus_resumable (DeleteUploadTusResumable): The only tus version this server speaks.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorBody
     """


    return sync_detailed(
        id=id,
client=client,
tus_resumable=tus_resumable,

    ).parsed

async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    tus_resumable: DeleteUploadTusResumable,

) -> Response[Any | ErrorBody]:
    """ Abandon an upload: its bytes and record are removed (tus termination).

    Args:
        id (str):
        tus_resumable (DeleteUploadTusResumable): The only tus version this server speaks.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorBody]
     """


    kwargs = _get_kwargs(
        id=id,
tus_resumable=tus_resumable,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    tus_resumable: DeleteUploadTusResumable,

) -> Any | ErrorBody | None:
    """ Abandon an upload: its bytes and record are removed (tus termination).

    Args:
        id (str):
        tus_resumable (DeleteUploadTusResumable): The only tus version this server speaks.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorBody
     """


    return (await asyncio_detailed(
        id=id,
client=client,
tus_resumable=tus_resumable,

    )).parsed
