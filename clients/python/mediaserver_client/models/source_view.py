from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.hdr import Hdr
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="SourceView")



@_attrs_define
class SourceView:
    """ The source video stream, and what processing made of it.

        Attributes:
            codec (str): ffprobe's codec name, e.g. `h264`, `hevc`, `prores`.
            fps (float): The published frame rate (constant: the source's nominal rate, at most 60).
            height (int):
            interlaced (bool): The source was interlaced; every rung was deinterlaced.
            pixel_format (str): ffprobe's pixel format, e.g. `yuv420p10le`.
            rotation (int): Clockwise rotation from the display matrix, in degrees (0, 90, 180, 270), applied to
                every rung.
            width (int): Display size: sample aspect ratio applied and swapped for a ±90° rotation.
            hdr (Hdr | None | Unset):
     """

    codec: str
    fps: float
    height: int
    interlaced: bool
    pixel_format: str
    rotation: int
    width: int
    hdr: Hdr | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        codec = self.codec

        fps = self.fps

        height = self.height

        interlaced = self.interlaced

        pixel_format = self.pixel_format

        rotation = self.rotation

        width = self.width

        hdr: None | str | Unset
        if isinstance(self.hdr, Unset):
            hdr = UNSET
        elif isinstance(self.hdr, Hdr):
            hdr = self.hdr.value
        else:
            hdr = self.hdr


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "codec": codec,
            "fps": fps,
            "height": height,
            "interlaced": interlaced,
            "pixel_format": pixel_format,
            "rotation": rotation,
            "width": width,
        })
        if hdr is not UNSET:
            field_dict["hdr"] = hdr

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        codec = d.pop("codec")

        fps = d.pop("fps")

        height = d.pop("height")

        interlaced = d.pop("interlaced")

        pixel_format = d.pop("pixel_format")

        rotation = d.pop("rotation")

        width = d.pop("width")

        def _parse_hdr(data: object) -> Hdr | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                hdr_type_1 = Hdr(data)



                return hdr_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Hdr | None | Unset, data)

        hdr = _parse_hdr(d.pop("hdr", UNSET))


        source_view = cls(
            codec=codec,
            fps=fps,
            height=height,
            interlaced=interlaced,
            pixel_format=pixel_format,
            rotation=rotation,
            width=width,
            hdr=hdr,
        )


        source_view.additional_properties = d
        return source_view

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
