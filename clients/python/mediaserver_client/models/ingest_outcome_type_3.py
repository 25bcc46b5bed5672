from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.ingest_outcome_type_3_result import IngestOutcomeType3Result






T = TypeVar("T", bound="IngestOutcomeType3")



@_attrs_define
class IngestOutcomeType3:
    """ Recorded as a `failed` item with `reason` and not processed: its owner's storage quota
    (`USER_QUOTA_BYTES`) has no room for it. The object stays in the bucket (its owner put
    it there); deleting the item deletes it, retrying the item processes it.

        Attributes:
            key (str):
            media_id (str):
            reason (str):
            result (IngestOutcomeType3Result):
     """

    key: str
    media_id: str
    reason: str
    result: IngestOutcomeType3Result
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        key = self.key

        media_id = self.media_id

        reason = self.reason

        result = self.result.value


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "key": key,
            "media_id": media_id,
            "reason": reason,
            "result": result,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        key = d.pop("key")

        media_id = d.pop("media_id")

        reason = d.pop("reason")

        result = IngestOutcomeType3Result(d.pop("result"))




        ingest_outcome_type_3 = cls(
            key=key,
            media_id=media_id,
            reason=reason,
            result=result,
        )


        ingest_outcome_type_3.additional_properties = d
        return ingest_outcome_type_3

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
