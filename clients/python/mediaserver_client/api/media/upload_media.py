from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_body import ErrorBody
from ...models.media_view import MediaView
from ...models.upload_form import UploadForm
from ...types import File, FileTypes
from ...types import UNSET, Unset
from io import BytesIO
from typing import cast



def _get_kwargs(
    *,
    body:    File  |     UploadForm  | Unset = UNSET,
    filename: str | Unset = UNSET,
    title: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    params: dict[str, Any] = {}

    params["filename"] = filename

    params["title"] = title


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/media",
        "params": params,
    }

    if isinstance(body, File):
        _kwargs["content"] = body.payload
        headers["Content-Type"] = "application/octet-stream"
    if isinstance(body, UploadForm):
        _kwargs["files"] = body.to_multipart()

        headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorBody | MediaView | None:
    if response.status_code == 201:
        response_201 = MediaView.from_dict(response.json())



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

    if response.status_code == 415:
        response_415 = ErrorBody.from_dict(response.json())



        return response_415

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ErrorBody | MediaView]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body:    File  |     UploadForm  | Unset = UNSET,
    filename: str | Unset = UNSET,
    title: str | Unset = UNSET,

) -> Response[ErrorBody | MediaView]:
    """ Upload a file: either `multipart/form-data` with a `file` field (and optional `title`), or the
    raw bytes as the body with `?filename=`. The kind is detected from the bytes; anything that is
    not an image, video or audio file is refused with 415.

    Args:
        filename (str | Unset):
        title (str | Unset):
        body (File): The file's bytes (not empty).
        body (UploadForm): The form of a multipart upload. Other fields are refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | MediaView]
     """


    kwargs = _get_kwargs(
        body=body,
filename=filename,
title=title,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body:    File  |     UploadForm  | Unset = UNSET,
    filename: str | Unset = UNSET,
    title: str | Unset = UNSET,

) -> ErrorBody | MediaView | None:
    """ Upload a file: either `multipart/form-data` with a `file` field (and optional `title`), or the
    raw bytes as the body with `?filename=`. The kind is detected from the bytes; anything that is
    not an image, video or audio file is refused with 415.

    Args:
        filename (str | Unset):
        title (str | Unset):
        body (File): The file's bytes (not empty).
        body (UploadForm): The form of a multipart upload. Other fields are refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | MediaView
     """


    return sync_detailed(
        client=client,
body=body,
filename=filename,
title=title,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body:    File  |     UploadForm  | Unset = UNSET,
    filename: str | Unset = UNSET,
    title: str | Unset = UNSET,

) -> Response[ErrorBody | MediaView]:
    """ Upload a file: either `multipart/form-data` with a `file` field (and optional `title`), or the
    raw bytes as the body with `?filename=`. The kind is detected from the bytes; anything that is
    not an image, video or audio file is refused with 415.

    Args:
        filename (str | Unset):
        title (str | Unset):
        body (File): The file's bytes (not empty).
        body (UploadForm): The form of a multipart upload. Other fields are refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | MediaView]
     """


    kwargs = _get_kwargs(
        body=body,
filename=filename,
title=title,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body:    File  |     UploadForm  | Unset = UNSET,
    filename: str | Unset = UNSET,
    title: str | Unset = UNSET,

) -> ErrorBody | MediaView | None:
    """ Upload a file: either `multipart/form-data` with a `file` field (and optional `title`), or the
    raw bytes as the body with `?filename=`. The kind is detected from the bytes; anything that is
    not an image, video or audio file is refused with 415.

    Args:
        filename (str | Unset):
        title (str | Unset):
        body (File): The file's bytes (not empty).
        body (UploadForm): The form of a multipart upload. Other fields are refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | MediaView
     """


    return (await asyncio_detailed(
        client=client,
body=body,
filename=filename,
title=title,

    )).parsed
