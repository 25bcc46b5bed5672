from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.ingest_outcome_type_0 import IngestOutcomeType0
  from ..models.ingest_outcome_type_1 import IngestOutcomeType1
  from ..models.ingest_outcome_type_2 import IngestOutcomeType2
  from ..models.ingest_outcome_type_3 import IngestOutcomeType3





T = TypeVar("T", bound="EventResponse")



@_attrs_define
class EventResponse:
    """ 
        Attributes:
            results (list[IngestOutcomeType0 | IngestOutcomeType1 | IngestOutcomeType2 | IngestOutcomeType3]):
            ignored (None | str | Unset): Why nothing was done, when the event was well-formed but not an object creation.
     """

    results: list[IngestOutcomeType0 | IngestOutcomeType1 | IngestOutcomeType2 | IngestOutcomeType3]
    ignored: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.ingest_outcome_type_0 import IngestOutcomeType0 # noqa: PLC0415
        from ..models.ingest_outcome_type_1 import IngestOutcomeType1 # noqa: PLC0415
        from ..models.ingest_outcome_type_2 import IngestOutcomeType2 # noqa: PLC0415
        from ..models.ingest_outcome_type_3 import IngestOutcomeType3 # noqa: PLC0415
        results = []
        for results_item_data in self.results:
            results_item: dict[str, Any]
            if isinstance(results_item_data, IngestOutcomeType0):
                results_item = results_item_data.to_dict()
            elif isinstance(results_item_data, IngestOutcomeType1):
                results_item = results_item_data.to_dict()
            elif isinstance(results_item_data, IngestOutcomeType2):
                results_item = results_item_data.to_dict()
            else:
                results_item = results_item_data.to_dict()

            results.append(results_item)



        ignored: None | str | Unset
        if isinstance(self.ignored, Unset):
            ignored = UNSET
        else:
            ignored = self.ignored


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "results": results,
        })
        if ignored is not UNSET:
            field_dict["ignored"] = ignored

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ingest_outcome_type_0 import IngestOutcomeType0 # noqa: PLC0415
        from ..models.ingest_outcome_type_1 import IngestOutcomeType1 # noqa: PLC0415
        from ..models.ingest_outcome_type_2 import IngestOutcomeType2 # noqa: PLC0415
        from ..models.ingest_outcome_type_3 import IngestOutcomeType3 # noqa: PLC0415
        d = dict(src_dict)
        results = []
        _results = d.pop("results")
        for results_item_data in (_results):
            def _parse_results_item(data: object) -> IngestOutcomeType0 | IngestOutcomeType1 | IngestOutcomeType2 | IngestOutcomeType3:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_ingest_outcome_type_0 = IngestOutcomeType0.from_dict(data)



                    return componentsschemas_ingest_outcome_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_ingest_outcome_type_1 = IngestOutcomeType1.from_dict(data)



                    return componentsschemas_ingest_outcome_type_1
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_ingest_outcome_type_2 = IngestOutcomeType2.from_dict(data)



                    return componentsschemas_ingest_outcome_type_2
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_ingest_outcome_type_3 = IngestOutcomeType3.from_dict(data)



                return componentsschemas_ingest_outcome_type_3

            results_item = _parse_results_item(results_item_data)

            results.append(results_item)


        def _parse_ignored(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ignored = _parse_ignored(d.pop("ignored", UNSET))


        event_response = cls(
            results=results,
            ignored=ignored,
        )


        event_response.additional_properties = d
        return event_response

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
