from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_body import ErrorBody
from ...models.text_track_kind import TextTrackKind
from ...models.text_track_view import TextTrackView
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    id: str,
    *,
    body: str,
    language: str,
    label: str | Unset = UNSET,
    kind: TextTrackKind | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    params: dict[str, Any] = {}

    params["language"] = language

    params["label"] = label

    json_kind: str | Unset = UNSET
    if not isinstance(kind, Unset):
        json_kind = kind.value

    params["kind"] = json_kind


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/media/{id}/text-tracks".format(id=quote(str(id), safe=""),),
        "params": params,
    }

    _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorBody | TextTrackView | None:
    if response.status_code == 201:
        response_201 = TextTrackView.from_dict(response.json())



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

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())



        return response_404

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())



        return response_409

    if response.status_code == 413:
        response_413 = ErrorBody.from_dict(response.json())



        return response_413

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())



        return response_422

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ErrorBody | TextTrackView]:
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
    body: str,
    language: str,
    label: str | Unset = UNSET,
    kind: TextTrackKind | Unset = UNSET,

) -> Response[ErrorBody | TextTrackView]:
    """ Add a caption or subtitle file to a ready video or audio item: the raw file (WebVTT or
    SubRip, UTF-8, at most 5 MiB) as the body, `?language=` (required), `label`, `kind`. It is
    normalised to WebVTT and published in the item's HLS and DASH manifests at once. Cues must
    start before the item ends; a cue that runs past the end is cut there. Owner or admin.

    Args:
        id (str):
        language (str):
        label (str | Unset):
        kind (TextTrackKind | Unset): Whether a text track transcribes speech only (`subtitles`)
            or also sounds and speakers
            (`captions`, for viewers who cannot hear the audio).
        body (str): A WebVTT (`WEBVTT` first) or SubRip file, UTF-8, at most 5 MiB.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | TextTrackView]
     """


    kwargs = _get_kwargs(
        id=id,
body=body,
language=language,
label=label,
kind=kind,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    body: str,
    language: str,
    label: str | Unset = UNSET,
    kind: TextTrackKind | Unset = UNSET,

) -> ErrorBody | TextTrackView | None:
    """ Add a caption or subtitle file to a ready video or audio item: the raw file (WebVTT or
    SubRip, UTF-8, at most 5 MiB) as the body, `?language=` (required), `label`, `kind`. It is
    normalised to WebVTT and published in the item's HLS and DASH manifests at once. Cues must
    start before the item ends; a cue that runs past the end is cut there. Owner or admin.

    Args:
        id (str):
        language (str):
        label (str | Unset):
        kind (TextTrackKind | Unset): Whether a text track transcribes speech only (`subtitles`)
            or also sounds and speakers
            (`captions`, for viewers who cannot hear the audio).
        body (str): A WebVTT (`WEBVTT` first) or SubRip file, UTF-8, at most 5 MiB.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | TextTrackView
     """


    return sync_detailed(
        id=id,
client=client,
body=body,
language=language,
label=label,
kind=kind,

    ).parsed

async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: str,
    language: str,
    label: str | Unset = UNSET,
    kind: TextTrackKind | Unset = UNSET,

) -> Response[ErrorBody | TextTrackView]:
    """ Add a caption or subtitle file to a ready video or audio item: the raw file (WebVTT or
    SubRip, UTF-8, at most 5 MiB) as the body, `?language=` (required), `label`, `kind`. It is
    normalised to WebVTT and published in the item's HLS and DASH manifests at once. Cues must
    start before the item ends; a cue that runs past the end is cut there. Owner or admin.

    Args:
        id (str):
        language (str):
        label (str | Unset):
        kind (TextTrackKind | Unset): Whether a text track transcribes speech only (`subtitles`)
            or also sounds and speakers
            (`captions`, for viewers who cannot hear the audio).
        body (str): A WebVTT (`WEBVTT` first) or SubRip file, UTF-8, at most 5 MiB.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | TextTrackView]
     """


    kwargs = _get_kwargs(
        id=id,
body=body,
language=language,
label=label,
kind=kind,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    body: str,
    language: str,
    label: str | Unset = UNSET,
    kind: TextTrackKind | Unset = UNSET,

) -> ErrorBody | TextTrackView | None:
    """ Add a caption or subtitle file to a ready video or audio item: the raw file (WebVTT or
    SubRip, UTF-8, at most 5 MiB) as the body, `?language=` (required), `label`, `kind`. It is
    normalised to WebVTT and published in the item's HLS and DASH manifests at once. Cues must
    start before the item ends; a cue that runs past the end is cut there. Owner or admin.

    Args:
        id (str):
        language (str):
        label (str | Unset):
        kind (TextTrackKind | Unset): Whether a text track transcribes speech only (`subtitles`)
            or also sounds and speakers
            (`captions`, for viewers who cannot hear the audio).
        body (str): A WebVTT (`WEBVTT` first) or SubRip file, UTF-8, at most 5 MiB.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | TextTrackView
     """


    return (await asyncio_detailed(
        id=id,
client=client,
body=body,
language=language,
label=label,
kind=kind,

    )).parsed
