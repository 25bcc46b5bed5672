from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.beacon_type_0 import BeaconType0
from ...models.beacon_type_1 import BeaconType1
from ...models.beacon_type_2 import BeaconType2
from ...models.beacon_type_3 import BeaconType3
from ...models.beacon_type_4 import BeaconType4
from ...models.beacon_type_5 import BeaconType5
from ...models.error_body import ErrorBody
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    id: str,
    *,
    body: BeaconType0 | BeaconType1 | BeaconType2 | BeaconType3 | BeaconType4 | BeaconType5,
    token: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    params: dict[str, Any] = {}

    params["token"] = token


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/media/{id}/views".format(id=quote(str(id), safe=""),),
        "params": params,
    }

    
    if isinstance(body, BeaconType0):
        _kwargs["json"] = body.to_dict()
    elif isinstance(body, BeaconType1):
        _kwargs["json"] = body.to_dict()
    elif isinstance(body, BeaconType2):
        _kwargs["json"] = body.to_dict()
    elif isinstance(body, BeaconType3):
        _kwargs["json"] = body.to_dict()
    elif isinstance(body, BeaconType4):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body.to_dict()


    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | ErrorBody | None:
    if response.status_code == 202:
        response_202 = cast(Any, None)
        return response_202

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

    if response.status_code == 429:
        response_429 = ErrorBody.from_dict(response.json())



        return response_429

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
    body: BeaconType0 | BeaconType1 | BeaconType2 | BeaconType3 | BeaconType4 | BeaconType5,
    token: str | Unset = UNSET,

) -> Response[Any | ErrorBody]:
    """ Reports playback of an item: one JSON object per request (see docs/analytics.md). No login
    needed for an item the caller may play; a private item needs `?token=` (a playback token for
    it) or its owner's login. At most 4 KiB; at most `BEACONS_PER_MINUTE` (120) beacons per minute per
    address.

    Args:
        id (str):
        token (str | Unset):
        body (BeaconType0 | BeaconType1 | BeaconType2 | BeaconType3 | BeaconType4 | BeaconType5):
            One playback beacon, as the document describes it: one shape per `event`, each with the
            fields
            that belong to it (a field sent with another event is a 400). [`BeaconBody`] reads it,
            with
            error messages that name the field.
            (Only utoipa reads these `serde` attributes: no field is read through this type.)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorBody]
     """


    kwargs = _get_kwargs(
        id=id,
body=body,
token=token,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    body: BeaconType0 | BeaconType1 | BeaconType2 | BeaconType3 | BeaconType4 | BeaconType5,
    token: str | Unset = UNSET,

) -> Any | ErrorBody | None:
    """ Reports playback of an item: one JSON object per request (see docs/analytics.md). No login
    needed for an item the caller may play; a private item needs `?token=` (a playback token for
    it) or its owner's login. At most 4 KiB; at most `BEACONS_PER_MINUTE` (120) beacons per minute per
    address.

    Args:
        id (str):
        token (str | Unset):
        body (BeaconType0 | BeaconType1 | BeaconType2 | BeaconType3 | BeaconType4 | BeaconType5):
            One playback beacon, as the document describes it: one shape per `event`, each with the
            fields
            that belong to it (a field sent with another event is a 400). [`BeaconBody`] reads it,
            with
            error messages that name the field.
            (Only utoipa reads these `serde` attributes: no field is read through this type.)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorBody
     """


    return sync_detailed(
        id=id,
client=client,
body=body,
token=token,

    ).parsed

async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: BeaconType0 | BeaconType1 | BeaconType2 | BeaconType3 | BeaconType4 | BeaconType5,
    token: str | Unset = UNSET,

) -> Response[Any | ErrorBody]:
    """ Reports playback of an item: one JSON object per request (see docs/analytics.md). No login
    needed for an item the caller may play; a private item needs `?token=` (a playback token for
    it) or its owner's login. At most 4 KiB; at most `BEACONS_PER_MINUTE` (120) beacons per minute per
    address.

    Args:
        id (str):
        token (str | Unset):
        body (BeaconType0 | BeaconType1 | BeaconType2 | BeaconType3 | BeaconType4 | BeaconType5):
            One playback beacon, as the document describes it: one shape per `event`, each with the
            fields
            that belong to it (a field sent with another event is a 400). [`BeaconBody`] reads it,
            with
            error messages that name the field.
            (Only utoipa reads these `serde` attributes: no field is read through this type.)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorBody]
     """


    kwargs = _get_kwargs(
        id=id,
body=body,
token=token,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    body: BeaconType0 | BeaconType1 | BeaconType2 | BeaconType3 | BeaconType4 | BeaconType5,
    token: str | Unset = UNSET,

) -> Any | ErrorBody | None:
    """ Reports playback of an item: one JSON object per request (see docs/analytics.md). No login
    needed for an item the caller may play; a private item needs `?token=` (a playback token for
    it) or its owner's login. At most 4 KiB; at most `BEACONS_PER_MINUTE` (120) beacons per minute per
    address.

    Args:
        id (str):
        token (str | Unset):
        body (BeaconType0 | BeaconType1 | BeaconType2 | BeaconType3 | BeaconType4 | BeaconType5):
            One playback beacon, as the document describes it: one shape per `event`, each with the
            fields
            that belong to it (a field sent with another event is a 400). [`BeaconBody`] reads it,
            with
            error messages that name the field.
            (Only utoipa reads these `serde` attributes: no field is read through this type.)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorBody
     """


    return (await asyncio_detailed(
        id=id,
client=client,
body=body,
token=token,

    )).parsed
