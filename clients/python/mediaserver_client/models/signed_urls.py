from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime






T = TypeVar("T", bound="SignedUrls")



@_attrs_define
class SignedUrls:
    """ 
        Attributes:
            dash (str):
            expires_at (datetime.datetime):
            hls (str):
            storyboard (str):
            thumbnail (str):
            token (str): The token itself (already embedded in the URLs).
     """

    dash: str
    expires_at: datetime.datetime
    hls: str
    storyboard: str
    thumbnail: str
    token: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        dash = self.dash

        expires_at = self.expires_at.isoformat()

        hls = self.hls

        storyboard = self.storyboard

        thumbnail = self.thumbnail

        token = self.token


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "dash": dash,
            "expires_at": expires_at,
            "hls": hls,
            "storyboard": storyboard,
            "thumbnail": thumbnail,
            "token": token,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        dash = d.pop("dash")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))




        hls = d.pop("hls")

        storyboard = d.pop("storyboard")

        thumbnail = d.pop("thumbnail")

        token = d.pop("token")

        signed_urls = cls(
            dash=dash,
            expires_at=expires_at,
            hls=hls,
            storyboard=storyboard,
            thumbnail=thumbnail,
            token=token,
        )


        signed_urls.additional_properties = d
        return signed_urls

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
