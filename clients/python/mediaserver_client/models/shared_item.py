from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.media_kind import MediaKind
from ..models.media_status import MediaStatus
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.shared_rendition import SharedRendition
  from ..models.shared_variant import SharedVariant





T = TypeVar("T", bound="SharedItem")



@_attrs_define
class SharedItem:
    """ The item a playback token plays, with every URL carrying the token.

        Attributes:
            dash (str):
            expires_at (datetime.datetime): When the token (and with it every URL here) stops working.
            hls (str):
            kind (MediaKind): What a media item is, decided from its bytes.
            playable (bool): True once enough is published to start playback.
            renditions (list[SharedRendition]):
            status (MediaStatus): Where a media item is in its life.
            title (str):
            variants (list[SharedVariant]): An image's generated variants.
            duration_seconds (float | None | Unset):
            storyboard_url (None | str | Unset):
            thumbnail_url (None | str | Unset):
     """

    dash: str
    expires_at: datetime.datetime
    hls: str
    kind: MediaKind
    playable: bool
    renditions: list[SharedRendition]
    status: MediaStatus
    title: str
    variants: list[SharedVariant]
    duration_seconds: float | None | Unset = UNSET
    storyboard_url: None | str | Unset = UNSET
    thumbnail_url: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.shared_rendition import SharedRendition # noqa: PLC0415
        from ..models.shared_variant import SharedVariant # noqa: PLC0415
        dash = self.dash

        expires_at = self.expires_at.isoformat()

        hls = self.hls

        kind = self.kind.value

        playable = self.playable

        renditions = []
        for renditions_item_data in self.renditions:
            renditions_item = renditions_item_data.to_dict()
            renditions.append(renditions_item)



        status = self.status.value

        title = self.title

        variants = []
        for variants_item_data in self.variants:
            variants_item = variants_item_data.to_dict()
            variants.append(variants_item)



        duration_seconds: float | None | Unset
        if isinstance(self.duration_seconds, Unset):
            duration_seconds = UNSET
        else:
            duration_seconds = self.duration_seconds

        storyboard_url: None | str | Unset
        if isinstance(self.storyboard_url, Unset):
            storyboard_url = UNSET
        else:
            storyboard_url = self.storyboard_url

        thumbnail_url: None | str | Unset
        if isinstance(self.thumbnail_url, Unset):
            thumbnail_url = UNSET
        else:
            thumbnail_url = self.thumbnail_url


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "dash": dash,
            "expires_at": expires_at,
            "hls": hls,
            "kind": kind,
            "playable": playable,
            "renditions": renditions,
            "status": status,
            "title": title,
            "variants": variants,
        })
        if duration_seconds is not UNSET:
            field_dict["duration_seconds"] = duration_seconds
        if storyboard_url is not UNSET:
            field_dict["storyboard_url"] = storyboard_url
        if thumbnail_url is not UNSET:
            field_dict["thumbnail_url"] = thumbnail_url

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.shared_rendition import SharedRendition # noqa: PLC0415
        from ..models.shared_variant import SharedVariant # noqa: PLC0415
        d = dict(src_dict)
        dash = d.pop("dash")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))




        hls = d.pop("hls")

        kind = MediaKind(d.pop("kind"))




        playable = d.pop("playable")

        renditions = []
        _renditions = d.pop("renditions")
        for renditions_item_data in (_renditions):
            renditions_item = SharedRendition.from_dict(renditions_item_data)



            renditions.append(renditions_item)


        status = MediaStatus(d.pop("status"))




        title = d.pop("title")

        variants = []
        _variants = d.pop("variants")
        for variants_item_data in (_variants):
            variants_item = SharedVariant.from_dict(variants_item_data)



            variants.append(variants_item)


        def _parse_duration_seconds(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        duration_seconds = _parse_duration_seconds(d.pop("duration_seconds", UNSET))


        def _parse_storyboard_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        storyboard_url = _parse_storyboard_url(d.pop("storyboard_url", UNSET))


        def _parse_thumbnail_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        thumbnail_url = _parse_thumbnail_url(d.pop("thumbnail_url", UNSET))


        shared_item = cls(
            dash=dash,
            expires_at=expires_at,
            hls=hls,
            kind=kind,
            playable=playable,
            renditions=renditions,
            status=status,
            title=title,
            variants=variants,
            duration_seconds=duration_seconds,
            storyboard_url=storyboard_url,
            thumbnail_url=thumbnail_url,
        )


        shared_item.additional_properties = d
        return shared_item

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
