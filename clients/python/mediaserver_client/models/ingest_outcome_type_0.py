from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.ingest_outcome_type_0_result import IngestOutcomeType0Result






T = TypeVar("T", bound="IngestOutcomeType0")



@_attrs_define
class IngestOutcomeType0:
    """ A new item was created and queued.

        Attributes:
            key (str):
            media_id (str):
            result (IngestOutcomeType0Result):
     """

    key: str
    media_id: str
    result: IngestOutcomeType0Result
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        key = self.key

        media_id = self.media_id

        result = self.result.value


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "key": key,
            "media_id": media_id,
            "result": result,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        key = d.pop("key")

        media_id = d.pop("media_id")

        result = IngestOutcomeType0Result(d.pop("result"))




        ingest_outcome_type_0 = cls(
            key=key,
            media_id=media_id,
            result=result,
        )


        ingest_outcome_type_0.additional_properties = d
        return ingest_outcome_type_0

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
