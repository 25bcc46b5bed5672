from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.encode_runner import EncodeRunner
  from ..models.quality_sampling import QualitySampling
  from ..models.rendition_encode import RenditionEncode





T = TypeVar("T", bound="EncodeReport")



@_attrs_define
class EncodeReport:
    """ Provenance and cost of an item's encode.

        Attributes:
            ffmpeg_version (str): ffmpeg's version as `ffmpeg -version` prints it, e.g. `5.1.6-0+deb12u1`.
            renditions (list[RenditionEncode]): One entry per video rendition, by rendition name (the `name` in
                `renditions`).
            runner (EncodeRunner): Where an encode ran.
            wall_seconds (float): Wall-clock seconds of the encode (ffmpeg's one run over every rung); for a chunked
                encode, the sum over its parts (every chunk and the rest: the work as one worker would
                have done it; see `elapsed_seconds`).
            cpu_seconds (float | None | Unset): CPU seconds (user + system) the encoding ffmpeg used, from the child's own
                accounting
                (summed over the parts of a chunked encode); null where the platform does not say.
            elapsed_seconds (float | None | Unset): A chunked encode (parts run as separate jobs, possibly side by side):
                seconds from the
                split to the assembly's report, what the item waited for its encode. Null for one job.
            quality (None | QualitySampling | Unset):
     """

    ffmpeg_version: str
    renditions: list[RenditionEncode]
    runner: EncodeRunner
    wall_seconds: float
    cpu_seconds: float | None | Unset = UNSET
    elapsed_seconds: float | None | Unset = UNSET
    quality: None | QualitySampling | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.encode_runner import EncodeRunner # noqa: PLC0415
        from ..models.quality_sampling import QualitySampling # noqa: PLC0415
        from ..models.rendition_encode import RenditionEncode # noqa: PLC0415
        ffmpeg_version = self.ffmpeg_version

        renditions = []
        for renditions_item_data in self.renditions:
            renditions_item = renditions_item_data.to_dict()
            renditions.append(renditions_item)



        runner = self.runner.to_dict()

        wall_seconds = self.wall_seconds

        cpu_seconds: float | None | Unset
        if isinstance(self.cpu_seconds, Unset):
            cpu_seconds = UNSET
        else:
            cpu_seconds = self.cpu_seconds

        elapsed_seconds: float | None | Unset
        if isinstance(self.elapsed_seconds, Unset):
            elapsed_seconds = UNSET
        else:
            elapsed_seconds = self.elapsed_seconds

        quality: dict[str, Any] | None | Unset
        if isinstance(self.quality, Unset):
            quality = UNSET
        elif isinstance(self.quality, QualitySampling):
            quality = self.quality.to_dict()
        else:
            quality = self.quality


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "ffmpeg_version": ffmpeg_version,
            "renditions": renditions,
            "runner": runner,
            "wall_seconds": wall_seconds,
        })
        if cpu_seconds is not UNSET:
            field_dict["cpu_seconds"] = cpu_seconds
        if elapsed_seconds is not UNSET:
            field_dict["elapsed_seconds"] = elapsed_seconds
        if quality is not UNSET:
            field_dict["quality"] = quality

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.encode_runner import EncodeRunner # noqa: PLC0415
        from ..models.quality_sampling import QualitySampling # noqa: PLC0415
        from ..models.rendition_encode import RenditionEncode # noqa: PLC0415
        d = dict(src_dict)
        ffmpeg_version = d.pop("ffmpeg_version")

        renditions = []
        _renditions = d.pop("renditions")
        for renditions_item_data in (_renditions):
            renditions_item = RenditionEncode.from_dict(renditions_item_data)



            renditions.append(renditions_item)


        runner = EncodeRunner.from_dict(d.pop("runner"))




        wall_seconds = d.pop("wall_seconds")

        def _parse_cpu_seconds(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        cpu_seconds = _parse_cpu_seconds(d.pop("cpu_seconds", UNSET))


        def _parse_elapsed_seconds(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        elapsed_seconds = _parse_elapsed_seconds(d.pop("elapsed_seconds", UNSET))


        def _parse_quality(data: object) -> None | QualitySampling | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                quality_type_1 = QualitySampling.from_dict(data)



                return quality_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | QualitySampling | Unset, data)

        quality = _parse_quality(d.pop("quality", UNSET))


        encode_report = cls(
            ffmpeg_version=ffmpeg_version,
            renditions=renditions,
            runner=runner,
            wall_seconds=wall_seconds,
            cpu_seconds=cpu_seconds,
            elapsed_seconds=elapsed_seconds,
            quality=quality,
        )


        encode_report.additional_properties = d
        return encode_report

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
