from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_body import ErrorBody
from ...models.o_embed import OEmbed
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    url_query: str,
    maxwidth: int | Unset = UNSET,
    maxheight: int | Unset = UNSET,
    format_: str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["url"] = url_query

    params["maxwidth"] = maxwidth

    params["maxheight"] = maxheight

    params["format"] = format_


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/oembed",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorBody | OEmbed | None:
    if response.status_code == 200:
        response_200 = OEmbed.from_dict(response.json())



        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())



        return response_400

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())



        return response_404

    if response.status_code == 501:
        response_501 = ErrorBody.from_dict(response.json())



        return response_501

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ErrorBody | OEmbed]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    url_query: str,
    maxwidth: int | Unset = UNSET,
    maxheight: int | Unset = UNSET,
    format_: str | Unset = UNSET,

) -> Response[ErrorBody | OEmbed]:
    """ oEmbed: the iframe for an item of this server, for sites that turn a pasted link into a
    player. Public and unlisted items only.

    Args:
        url_query (str):
        maxwidth (int | Unset):
        maxheight (int | Unset):
        format_ (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | OEmbed]
     """


    kwargs = _get_kwargs(
        url_query=url_query,
maxwidth=maxwidth,
maxheight=maxheight,
format_=format_,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient | Client,
    url_query: str,
    maxwidth: int | Unset = UNSET,
    maxheight: int | Unset = UNSET,
    format_: str | Unset = UNSET,

) -> ErrorBody | OEmbed | None:
    """ oEmbed: the iframe for an item of this server, for sites that turn a pasted link into a
    player. Public and unlisted items only.

    Args:
        url_query (str):
        maxwidth (int | Unset):
        maxheight (int | Unset):
        format_ (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | OEmbed
     """


    return sync_detailed(
        client=client,
url_query=url_query,
maxwidth=maxwidth,
maxheight=maxheight,
format_=format_,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    url_query: str,
    maxwidth: int | Unset = UNSET,
    maxheight: int | Unset = UNSET,
    format_: str | Unset = UNSET,

) -> Response[ErrorBody | OEmbed]:
    """ oEmbed: the iframe for an item of this server, for sites that turn a pasted link into a
    player. Public and unlisted items only.

    Args:
        url_query (str):
        maxwidth (int | Unset):
        maxheight (int | Unset):
        format_ (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | OEmbed]
     """


    kwargs = _get_kwargs(
        url_query=url_query,
maxwidth=maxwidth,
maxheight=maxheight,
format_=format_,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    url_query: str,
    maxwidth: int | Unset = UNSET,
    maxheight: int | Unset = UNSET,
    format_: str | Unset = UNSET,

) -> ErrorBody | OEmbed | None:
    """ oEmbed: the iframe for an item of this server, for sites that turn a pasted link into a
    player. Public and unlisted items only.

    Args:
        url_query (str):
        maxwidth (int | Unset):
        maxheight (int | Unset):
        format_ (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | OEmbed
     """


    return (await asyncio_detailed(
        client=client,
url_query=url_query,
maxwidth=maxwidth,
maxheight=maxheight,
format_=format_,

    )).parsed
