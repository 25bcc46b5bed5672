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





T = TypeVar("T", bound="RenditionEncode")



@_attrs_define
class RenditionEncode:
    """ How one rendition was encoded, what it weighs, and how good it came out.

        Attributes:
            bitrate (int): The average bitrate asked for; 0 under a quality target.
            bufsize (int):
            bytes_ (int): Bytes of the published init and media segments of this rendition.
            codec (str): `h264`, …
            encoder (str): ffmpeg's encoder, e.g. `libx264`.
            filter_ (str): The filter chain that made this rendition's pictures from the decoded source
                (deinterlace, constant rate, tone-map, scale): what the encoder was fed.
            fps (float):
            gop (int):
            maxrate (int):
            name (str): The rendition's name, as in `renditions[].name`.
            preset (str): What was asked of the encoder: preset, profile, target, cap and buffer (bits/s), GOP
                length (frames) and frame rate.
            profile (str):
            crf (int | None | Unset): The quality target (x264's CRF) under the cap, with the adaptive ladder; null for an
                average-bitrate encode.
            encoder_settings (None | str | Unset): The encoder's full settings as it wrote them into the stream (x264's
                `options:`).
            encoder_version (None | str | Unset): The encoder's own version line, as it wrote it into the stream (e.g. `x264
                core 164
                r3095 baee400`); null when the stream does not carry one.
            head_crf (int | None | Unset): The first segment's quality target when it was encoded ahead of the complexity
                probe
                (at x264's default CRF for the rung, so that the item plays sooner); `crf` is the rest's.
                Null when the first segment is like the rest.
            head_seconds (int | None | Unset): That first segment's length in seconds; null as `head_crf`.
            quality (None | Quality | Unset):
     """

    bitrate: int
    bufsize: int
    bytes_: int
    codec: str
    encoder: str
    filter_: str
    fps: float
    gop: int
    maxrate: int
    name: str
    preset: str
    profile: str
    crf: int | None | Unset = UNSET
    encoder_settings: None | str | Unset = UNSET
    encoder_version: None | str | Unset = UNSET
    head_crf: int | None | Unset = UNSET
    head_seconds: int | None | Unset = UNSET
    quality: None | Quality | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.quality import Quality # noqa: PLC0415
        bitrate = self.bitrate

        bufsize = self.bufsize

        bytes_ = self.bytes_

        codec = self.codec

        encoder = self.encoder

        filter_ = self.filter_

        fps = self.fps

        gop = self.gop

        maxrate = self.maxrate

        name = self.name

        preset = self.preset

        profile = self.profile

        crf: int | None | Unset
        if isinstance(self.crf, Unset):
            crf = UNSET
        else:
            crf = self.crf

        encoder_settings: None | str | Unset
        if isinstance(self.encoder_settings, Unset):
            encoder_settings = UNSET
        else:
            encoder_settings = self.encoder_settings

        encoder_version: None | str | Unset
        if isinstance(self.encoder_version, Unset):
            encoder_version = UNSET
        else:
            encoder_version = self.encoder_version

        head_crf: int | None | Unset
        if isinstance(self.head_crf, Unset):
            head_crf = UNSET
        else:
            head_crf = self.head_crf

        head_seconds: int | None | Unset
        if isinstance(self.head_seconds, Unset):
            head_seconds = UNSET
        else:
            head_seconds = self.head_seconds

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
            "bitrate": bitrate,
            "bufsize": bufsize,
            "bytes": bytes_,
            "codec": codec,
            "encoder": encoder,
            "filter": filter_,
            "fps": fps,
            "gop": gop,
            "maxrate": maxrate,
            "name": name,
            "preset": preset,
            "profile": profile,
        })
        if crf is not UNSET:
            field_dict["crf"] = crf
        if encoder_settings is not UNSET:
            field_dict["encoder_settings"] = encoder_settings
        if encoder_version is not UNSET:
            field_dict["encoder_version"] = encoder_version
        if head_crf is not UNSET:
            field_dict["head_crf"] = head_crf
        if head_seconds is not UNSET:
            field_dict["head_seconds"] = head_seconds
        if quality is not UNSET:
            field_dict["quality"] = quality

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.quality import Quality # noqa: PLC0415
        d = dict(src_dict)
        bitrate = d.pop("bitrate")

        bufsize = d.pop("bufsize")

        bytes_ = d.pop("bytes")

        codec = d.pop("codec")

        encoder = d.pop("encoder")

        filter_ = d.pop("filter")

        fps = d.pop("fps")

        gop = d.pop("gop")

        maxrate = d.pop("maxrate")

        name = d.pop("name")

        preset = d.pop("preset")

        profile = d.pop("profile")

        def _parse_crf(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        crf = _parse_crf(d.pop("crf", UNSET))


        def _parse_encoder_settings(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        encoder_settings = _parse_encoder_settings(d.pop("encoder_settings", UNSET))


        def _parse_encoder_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        encoder_version = _parse_encoder_version(d.pop("encoder_version", UNSET))


        def _parse_head_crf(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        head_crf = _parse_head_crf(d.pop("head_crf", UNSET))


        def _parse_head_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        head_seconds = _parse_head_seconds(d.pop("head_seconds", UNSET))


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


        rendition_encode = cls(
            bitrate=bitrate,
            bufsize=bufsize,
            bytes_=bytes_,
            codec=codec,
            encoder=encoder,
            filter_=filter_,
            fps=fps,
            gop=gop,
            maxrate=maxrate,
            name=name,
            preset=preset,
            profile=profile,
            crf=crf,
            encoder_settings=encoder_settings,
            encoder_version=encoder_version,
            head_crf=head_crf,
            head_seconds=head_seconds,
            quality=quality,
        )


        rendition_encode.additional_properties = d
        return rendition_encode

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
