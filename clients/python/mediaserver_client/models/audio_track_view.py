from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="AudioTrackView")



@_attrs_define
class AudioTrackView:
    """ 
        Attributes:
            channels (int):
            default (bool):
            id (int): Position in the published order; 0 is the default track.
            language (str): ISO 639 code (`und` when the source had none), as in the HLS `LANGUAGE` and DASH `lang`.
            name (str): As the HLS `NAME` says: the source's title, else the language's English name.
     """

    channels: int
    default: bool
    id: int
    language: str
    name: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        channels = self.channels

        default = self.default

        id = self.id

        language = self.language

        name = self.name


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "channels": channels,
            "default": default,
            "id": id,
            "language": language,
            "name": name,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        channels = d.pop("channels")

        default = d.pop("default")

        id = d.pop("id")

        language = d.pop("language")

        name = d.pop("name")

        audio_track_view = cls(
            channels=channels,
            default=default,
            id=id,
            language=language,
            name=name,
        )


        audio_track_view.additional_properties = d
        return audio_track_view

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
