from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="StorageView")



@_attrs_define
class StorageView:
    """ What a user has in storage, and their quota.

        Attributes:
            originals_bytes (int):
            outputs_bytes (int): Processing outputs (not counted by the quota).
            pending_bytes (int): Declared lengths of unfinished tus and direct uploads (they reserve room).
            used_bytes (int): What the quota counts: originals plus unfinished uploads' declared lengths.
            left_bytes (int | None | Unset): Room left under the quota; absent: no limit.
            quota_bytes (int | None | Unset): `USER_QUOTA_BYTES`; absent: no limit.
     """

    originals_bytes: int
    outputs_bytes: int
    pending_bytes: int
    used_bytes: int
    left_bytes: int | None | Unset = UNSET
    quota_bytes: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        originals_bytes = self.originals_bytes

        outputs_bytes = self.outputs_bytes

        pending_bytes = self.pending_bytes

        used_bytes = self.used_bytes

        left_bytes: int | None | Unset
        if isinstance(self.left_bytes, Unset):
            left_bytes = UNSET
        else:
            left_bytes = self.left_bytes

        quota_bytes: int | None | Unset
        if isinstance(self.quota_bytes, Unset):
            quota_bytes = UNSET
        else:
            quota_bytes = self.quota_bytes


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "originals_bytes": originals_bytes,
            "outputs_bytes": outputs_bytes,
            "pending_bytes": pending_bytes,
            "used_bytes": used_bytes,
        })
        if left_bytes is not UNSET:
            field_dict["left_bytes"] = left_bytes
        if quota_bytes is not UNSET:
            field_dict["quota_bytes"] = quota_bytes

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        originals_bytes = d.pop("originals_bytes")

        outputs_bytes = d.pop("outputs_bytes")

        pending_bytes = d.pop("pending_bytes")

        used_bytes = d.pop("used_bytes")

        def _parse_left_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        left_bytes = _parse_left_bytes(d.pop("left_bytes", UNSET))


        def _parse_quota_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        quota_bytes = _parse_quota_bytes(d.pop("quota_bytes", UNSET))


        storage_view = cls(
            originals_bytes=originals_bytes,
            outputs_bytes=outputs_bytes,
            pending_bytes=pending_bytes,
            used_bytes=used_bytes,
            left_bytes=left_bytes,
            quota_bytes=quota_bytes,
        )


        storage_view.additional_properties = d
        return storage_view

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
