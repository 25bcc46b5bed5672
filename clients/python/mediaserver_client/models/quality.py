from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="Quality")



@_attrs_define
class Quality:
    """ Full-reference quality of a rendition against the source as the encoder was fed it, scaled
    to the rendition's size, on sampled windows (see [`QualitySampling`]).

        Attributes:
            psnr (float): PSNR over all planes, dB (higher is better; identical frames are reported as 100).
            ssim (float): SSIM over all planes, 0–1 (1: identical).
            vmaf (float | None | Unset): VMAF 0–100, only where ffmpeg was built with libvmaf.
     """

    psnr: float
    ssim: float
    vmaf: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        psnr = self.psnr

        ssim = self.ssim

        vmaf: float | None | Unset
        if isinstance(self.vmaf, Unset):
            vmaf = UNSET
        else:
            vmaf = self.vmaf


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "psnr": psnr,
            "ssim": ssim,
        })
        if vmaf is not UNSET:
            field_dict["vmaf"] = vmaf

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        psnr = d.pop("psnr")

        ssim = d.pop("ssim")

        def _parse_vmaf(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        vmaf = _parse_vmaf(d.pop("vmaf", UNSET))


        quality = cls(
            psnr=psnr,
            ssim=ssim,
            vmaf=vmaf,
        )


        quality.additional_properties = d
        return quality

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
