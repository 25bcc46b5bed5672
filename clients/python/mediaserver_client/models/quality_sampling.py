from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="QualitySampling")



@_attrs_define
class QualitySampling:
    """ How the quality scores were sampled, and their cost.

        Attributes:
            sampled_seconds (float): Seconds of video compared per rendition (all windows together).
            vmaf (bool): Whether VMAF was measured (ffmpeg built with libvmaf).
            wall_seconds (float): Wall-clock seconds of the measurement.
            windows (int): Number of windows compared.
            cpu_seconds (float | None | Unset): CPU seconds (user + system) of the measuring ffmpeg runs and the ffprobe
                keyframe scan.
     """

    sampled_seconds: float
    vmaf: bool
    wall_seconds: float
    windows: int
    cpu_seconds: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        sampled_seconds = self.sampled_seconds

        vmaf = self.vmaf

        wall_seconds = self.wall_seconds

        windows = self.windows

        cpu_seconds: float | None | Unset
        if isinstance(self.cpu_seconds, Unset):
            cpu_seconds = UNSET
        else:
            cpu_seconds = self.cpu_seconds


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "sampled_seconds": sampled_seconds,
            "vmaf": vmaf,
            "wall_seconds": wall_seconds,
            "windows": windows,
        })
        if cpu_seconds is not UNSET:
            field_dict["cpu_seconds"] = cpu_seconds

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        sampled_seconds = d.pop("sampled_seconds")

        vmaf = d.pop("vmaf")

        wall_seconds = d.pop("wall_seconds")

        windows = d.pop("windows")

        def _parse_cpu_seconds(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        cpu_seconds = _parse_cpu_seconds(d.pop("cpu_seconds", UNSET))


        quality_sampling = cls(
            sampled_seconds=sampled_seconds,
            vmaf=vmaf,
            wall_seconds=wall_seconds,
            windows=windows,
            cpu_seconds=cpu_seconds,
        )


        quality_sampling.additional_properties = d
        return quality_sampling

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
