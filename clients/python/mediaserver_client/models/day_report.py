from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime






T = TypeVar("T", bound="DayReport")



@_attrs_define
class DayReport:
    """ 
        Attributes:
            date (datetime.date): `YYYY-MM-DD` (UTC).
            unique_viewers (int):
            views (int):
            watch_seconds (float):
     """

    date: datetime.date
    unique_viewers: int
    views: int
    watch_seconds: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        date = self.date.isoformat()

        unique_viewers = self.unique_viewers

        views = self.views

        watch_seconds = self.watch_seconds


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "date": date,
            "unique_viewers": unique_viewers,
            "views": views,
            "watch_seconds": watch_seconds,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        date = datetime.date.fromisoformat(d.pop("date"))




        unique_viewers = d.pop("unique_viewers")

        views = d.pop("views")

        watch_seconds = d.pop("watch_seconds")

        day_report = cls(
            date=date,
            unique_viewers=unique_viewers,
            views=views,
            watch_seconds=watch_seconds,
        )


        day_report.additional_properties = d
        return day_report

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
