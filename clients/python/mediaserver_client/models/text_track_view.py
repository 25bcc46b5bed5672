from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.text_track_kind import TextTrackKind
from ..models.text_track_source import TextTrackSource
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="TextTrackView")



@_attrs_define
class TextTrackView:
    """ A text track (captions or subtitles) published with the item's HLS and DASH streams.

        Attributes:
            id (str): `s0`, `s1`… for the source's subtitle streams; `u…` for uploaded files.
            kind (TextTrackKind): Whether a text track transcribes speech only (`subtitles`) or also sounds and speakers
                (`captions`, for viewers who cannot hear the audio).
            label (str): What players show in their captions menu.
            language (str): BCP 47 tag whose primary subtag is ISO 639 (`und` when unknown), as in HLS `LANGUAGE`
                and DASH `lang`.
            source (TextTrackSource): Where a text track came from: a subtitle stream of the source, or a file the owner
                uploaded.
            url (str): The WebVTT file (plays where the item's other playback URLs do).
            signed_url (None | str | Unset): The same file under the item's playback token, for its owner or an admin (see
                `signed`); null otherwise.
     """

    id: str
    kind: TextTrackKind
    label: str
    language: str
    source: TextTrackSource
    url: str
    signed_url: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = self.id

        kind = self.kind.value

        label = self.label

        language = self.language

        source = self.source.value

        url = self.url

        signed_url: None | str | Unset
        if isinstance(self.signed_url, Unset):
            signed_url = UNSET
        else:
            signed_url = self.signed_url


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "kind": kind,
            "label": label,
            "language": language,
            "source": source,
            "url": url,
        })
        if signed_url is not UNSET:
            field_dict["signed_url"] = signed_url

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        kind = TextTrackKind(d.pop("kind"))




        label = d.pop("label")

        language = d.pop("language")

        source = TextTrackSource(d.pop("source"))




        url = d.pop("url")

        def _parse_signed_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        signed_url = _parse_signed_url(d.pop("signed_url", UNSET))


        text_track_view = cls(
            id=id,
            kind=kind,
            label=label,
            language=language,
            source=source,
            url=url,
            signed_url=signed_url,
        )


        text_track_view.additional_properties = d
        return text_track_view

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
