from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.create_tus_resumable import CreateTusResumable
from ...models.error_body import ErrorBody
from typing import cast



def _get_kwargs(
    *,
    tus_resumable: CreateTusResumable,
    upload_length: str,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["Tus-Resumable"] = str(tus_resumable)


    headers["Upload-Length"] = upload_length



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/uploads/",
    }


    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | ErrorBody | None:
    if response.status_code == 201:
        response_201 = cast(Any, None)
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

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())



        return response_409

    if response.status_code == 412:
        response_412 = ErrorBody.from_dict(response.json())



        return response_412

    if response.status_code == 413:
        response_413 = ErrorBody.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = ErrorBody.from_dict(response.json())



        return response_415

    if response.status_code == 460:
        response_460 = ErrorBody.from_dict(response.json())



        return response_460

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
    *,
    client: AuthenticatedClient,
    tus_resumable: CreateTusResumable,
    upload_length: str,

) -> Response[Any | ErrorBody]:
    """ Create a resumable upload of `Upload-Length` bytes (tus creation). An `Upload-Metadata`
    header may carry comma-separated `key base64(value)` pairs: `filename` and `title` are used. With
    `Content-Type: application/offset+octet-stream` the body
    is its first bytes (creation-with-upload). The upload's URL is in `Location`; PATCH the bytes
    there. At most `MAX_PENDING_UPLOADS` unfinished uploads per user (409 beyond).

    Args:
        tus_resumable (CreateTusResumable): The only tus version this server speaks.
        upload_length (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorBody]
     """


    kwargs = _get_kwargs(
        tus_resumable=tus_resumable,
upload_length=upload_length,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    tus_resumable: CreateTusResumable,
    upload_length: str,

) -> Any | ErrorBody | None:
    """ Create a resumable upload of `Upload-Length` bytes (tus creation). An `Upload-Metadata`
    header may carry comma-separated `key base64(value)` pairs: `filename` and `title` are used. With
    `Content-Type: application/offset+octet-stream` the body
    is its first bytes (creation-with-upload). The upload's URL is in `Location`; PATCH the bytes
    there. At most `MAX_PENDING_UPLOADS` unfinished uploads per user (409 beyond).

    Args:
        tus_resumable (CreateTusResumable): The only tus version this server speaks.
        upload_length (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorBody
     """


    return sync_detailed(
        client=client,
tus_resumable=tus_resumable,
upload_length=upload_length,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    tus_resumable: CreateTusResumable,
    upload_length: str,

) -> Response[Any | ErrorBody]:
    """ Create a resumable upload of `Upload-Length` bytes (tus creation). An `Upload-Metadata`
    header may carry comma-separated `key base64(value)` pairs: `filename` and `title` are used. With
    `Content-Type: application/offset+octet-stream` the body
    is its first bytes (creation-with-upload). The upload's URL is in `Location`; PATCH the bytes
    there. At most `MAX_PENDING_UPLOADS` unfinished uploads per user (409 beyond).

    Args:
        tus_resumable (CreateTusResumable): The only tus version this server speaks.
        upload_length (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorBody]
     """


    kwargs = _get_kwargs(
        tus_resumable=tus_resumable,
upload_length=upload_length,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    tus_resumable: CreateTusResumable,
    upload_length: str,

) -> Any | ErrorBody | None:
    """ Create a resumable upload of `Upload-Length` bytes (tus creation). An `Upload-Metadata`
    header may carry comma-separated `key base64(value)` pairs: `filename` and `title` are used. With
    `Content-Type: application/offset+octet-stream` the body
    is its first bytes (creation-with-upload). The upload's URL is in `Location`; PATCH the bytes
    there. At most `MAX_PENDING_UPLOADS` unfinished uploads per user (409 beyond).

    Args:
        tus_resumable (CreateTusResumable): The only tus version this server speaks.
        upload_length (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorBody
     """


    return (await asyncio_detailed(
        client=client,
tus_resumable=tus_resumable,
upload_length=upload_length,

    )).parsed
