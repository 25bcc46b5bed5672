from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="DownloadView")



@_attrs_define
class DownloadView:
    """ A file to download, made from the published streams without re-encoding.

        Attributes:
            bytes_ (int):
            height (int):
            name (str): `720p`… for an MP4 of that rung (H.264 + AAC), `audio` for the M4A (AAC).
            url (str): Served as an attachment named after the title; same access as playback.
            width (int): 0 for the M4A.
     """

    bytes_: int
    height: int
    name: str
    url: str
    width: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        bytes_ = self.bytes_

        height = self.height

        name = self.name

        url = self.url

        width = self.width


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "bytes": bytes_,
            "height": height,
            "name": name,
            "url": url,
            "width": width,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bytes_ = d.pop("bytes")

        height = d.pop("height")

        name = d.pop("name")

        url = d.pop("url")

        width = d.pop("width")

        download_view = cls(
            bytes_=bytes_,
            height=height,
            name=name,
            url=url,
            width=width,
        )


        download_view.additional_properties = d
        return download_view

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
