from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.ingest_outcome_type_1_result import IngestOutcomeType1Result
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="IngestOutcomeType1")



@_attrs_define
class IngestOutcomeType1:
    """ This object version was seen before; nothing new was created.

        Attributes:
            key (str):
            result (IngestOutcomeType1Result):
            media_id (None | str | Unset):
     """

    key: str
    result: IngestOutcomeType1Result
    media_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        key = self.key

        result = self.result.value

        media_id: None | str | Unset
        if isinstance(self.media_id, Unset):
            media_id = UNSET
        else:
            media_id = self.media_id


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "key": key,
            "result": result,
        })
        if media_id is not UNSET:
            field_dict["media_id"] = media_id

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        key = d.pop("key")

        result = IngestOutcomeType1Result(d.pop("result"))




        def _parse_media_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        media_id = _parse_media_id(d.pop("media_id", UNSET))


        ingest_outcome_type_1 = cls(
            key=key,
            result=result,
            media_id=media_id,
        )


        ingest_outcome_type_1.additional_properties = d
        return ingest_outcome_type_1

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
