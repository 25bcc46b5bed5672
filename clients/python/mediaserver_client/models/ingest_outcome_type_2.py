from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.ingest_outcome_type_2_result import IngestOutcomeType2Result






T = TypeVar("T", bound="IngestOutcomeType2")



@_attrs_define
class IngestOutcomeType2:
    """ Not for us (this server's own outputs, or not an image, video or audio file).

        Attributes:
            key (str):
            reason (str):
            result (IngestOutcomeType2Result):
     """

    key: str
    reason: str
    result: IngestOutcomeType2Result
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        key = self.key

        reason = self.reason

        result = self.result.value


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "key": key,
            "reason": reason,
            "result": result,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        key = d.pop("key")

        reason = d.pop("reason")

        result = IngestOutcomeType2Result(d.pop("result"))




        ingest_outcome_type_2 = cls(
            key=key,
            reason=reason,
            result=result,
        )


        ingest_outcome_type_2.additional_properties = d
        return ingest_outcome_type_2

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
