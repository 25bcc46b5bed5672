from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.quality import Quality





T = TypeVar("T", bound="RenditionView")



@_attrs_define
class RenditionView:
    """ 
        Attributes:
            bandwidth (int):
            codecs (str):
            height (int):
            name (str):
            width (int):
            codec (None | str | Unset): The video codec: `h264`, `av1` or `hevc` (`VIDEO_CODECS`); null for audio
                renditions.
            quality (None | Quality | Unset):
     """

    bandwidth: int
    codecs: str
    height: int
    name: str
    width: int
    codec: None | str | Unset = UNSET
    quality: None | Quality | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.quality import Quality # noqa: PLC0415
        bandwidth = self.bandwidth

        codecs = self.codecs

        height = self.height

        name = self.name

        width = self.width

        codec: None | str | Unset
        if isinstance(self.codec, Unset):
            codec = UNSET
        else:
            codec = self.codec

        quality: dict[str, Any] | None | Unset
        if isinstance(self.quality, Unset):
            quality = UNSET
        elif isinstance(self.quality, Quality):
            quality = self.quality.to_dict()
        else:
            quality = self.quality


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "bandwidth": bandwidth,
            "codecs": codecs,
            "height": height,
            "name": name,
            "width": width,
        })
        if codec is not UNSET:
            field_dict["codec"] = codec
        if quality is not UNSET:
            field_dict["quality"] = quality

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.quality import Quality # noqa: PLC0415
        d = dict(src_dict)
        bandwidth = d.pop("bandwidth")

        codecs = d.pop("codecs")

        height = d.pop("height")

        name = d.pop("name")

        width = d.pop("width")

        def _parse_codec(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        codec = _parse_codec(d.pop("codec", UNSET))


        def _parse_quality(data: object) -> None | Quality | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                quality_type_1 = Quality.from_dict(data)



                return quality_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Quality | Unset, data)

        quality = _parse_quality(d.pop("quality", UNSET))


        rendition_view = cls(
            bandwidth=bandwidth,
            codecs=codecs,
            height=height,
            name=name,
            width=width,
            codec=codec,
            quality=quality,
        )


        rendition_view.additional_properties = d
        return rendition_view

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
