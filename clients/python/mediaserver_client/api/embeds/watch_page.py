from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...types import UNSET, Unset



def _get_kwargs(
    id: str,
    *,
    token: str | Unset = UNSET,
    autoplay: bool | Unset = UNSET,
    muted: bool | Unset = UNSET,
    loop: bool | Unset = UNSET,
    controls: bool | Unset = UNSET,
    start: float | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["token"] = token

    params["autoplay"] = autoplay

    params["muted"] = muted

    params["loop"] = loop

    params["controls"] = controls

    params["start"] = start


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/watch/{id}".format(id=quote(str(id), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> str | None:
    if response.status_code == 200:
        response_200 = response.text
        return response_200

    if response.status_code == 400:
        response_400 = response.text
        return response_400

    if response.status_code == 401:
        response_401 = response.text
        return response_401

    if response.status_code == 403:
        response_403 = response.text
        return response_403

    if response.status_code == 404:
        response_404 = response.text
        return response_404

    if response.status_code == 503:
        response_503 = response.text
        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    token: str | Unset = UNSET,
    autoplay: bool | Unset = UNSET,
    muted: bool | Unset = UNSET,
    loop: bool | Unset = UNSET,
    controls: bool | Unset = UNSET,
    start: float | Unset = UNSET,

) -> Response[str]:
    """ The share page: the item's player with its title, for a link people open (and that link
    previews unfurl: Open Graph and Twitter player tags, oEmbed discovery). The same access and
    options as `/embed/{id}`, but no site may frame it.

    Args:
        id (str):
        token (str | Unset):
        autoplay (bool | Unset):
        muted (bool | Unset):
        loop (bool | Unset):
        controls (bool | Unset):
        start (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[str]
     """


    kwargs = _get_kwargs(
        id=id,
token=token,
autoplay=autoplay,
muted=muted,
loop=loop,
controls=controls,
start=start,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    token: str | Unset = UNSET,
    autoplay: bool | Unset = UNSET,
    muted: bool | Unset = UNSET,
    loop: bool | Unset = UNSET,
    controls: bool | Unset = UNSET,
    start: float | Unset = UNSET,

) -> str | None:
    """ The share page: the item's player with its title, for a link people open (and that link
    previews unfurl: Open Graph and Twitter player tags, oEmbed discovery). The same access and
    options as `/embed/{id}`, but no site may frame it.

    Args:
        id (str):
        token (str | Unset):
        autoplay (bool | Unset):
        muted (bool | Unset):
        loop (bool | Unset):
        controls (bool | Unset):
        start (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        str
     """


    return sync_detailed(
        id=id,
client=client,
token=token,
autoplay=autoplay,
muted=muted,
loop=loop,
controls=controls,
start=start,

    ).parsed

async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    token: str | Unset = UNSET,
    autoplay: bool | Unset = UNSET,
    muted: bool | Unset = UNSET,
    loop: bool | Unset = UNSET,
    controls: bool | Unset = UNSET,
    start: float | Unset = UNSET,

) -> Response[str]:
    """ The share page: the item's player with its title, for a link people open (and that link
    previews unfurl: Open Graph and Twitter player tags, oEmbed discovery). The same access and
    options as `/embed/{id}`, but no site may frame it.

    Args:
        id (str):
        token (str | Unset):
        autoplay (bool | Unset):
        muted (bool | Unset):
        loop (bool | Unset):
        controls (bool | Unset):
        start (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[str]
     """


    kwargs = _get_kwargs(
        id=id,
token=token,
autoplay=autoplay,
muted=muted,
loop=loop,
controls=controls,
start=start,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    token: str | Unset = UNSET,
    autoplay: bool | Unset = UNSET,
    muted: bool | Unset = UNSET,
    loop: bool | Unset = UNSET,
    controls: bool | Unset = UNSET,
    start: float | Unset = UNSET,

) -> str | None:
    """ The share page: the item's player with its title, for a link people open (and that link
    previews unfurl: Open Graph and Twitter player tags, oEmbed discovery). The same access and
    options as `/embed/{id}`, but no site may frame it.

    Args:
        id (str):
        token (str | Unset):
        autoplay (bool | Unset):
        muted (bool | Unset):
        loop (bool | Unset):
        controls (bool | Unset):
        start (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        str
     """


    return (await asyncio_detailed(
        id=id,
client=client,
token=token,
autoplay=autoplay,
muted=muted,
loop=loop,
controls=controls,
start=start,

    )).parsed
