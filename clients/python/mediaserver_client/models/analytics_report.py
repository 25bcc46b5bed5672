from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.analytics_report_renditions import AnalyticsReportRenditions
  from ..models.day_report import DayReport
  from ..models.startup import Startup





T = TypeVar("T", bound="AnalyticsReport")



@_attrs_define
class AnalyticsReport:
    """ An item's viewing over a range of days. Sessions belong to the day of their first beacon.

        Attributes:
            days (list[DayReport]): Every day of the range, oldest first (days without views are zeros).
            errors (int): Playback errors the players reported.
            from_ (datetime.date):
            rebuffer_ratio (float): Rebuffering time / (watch time + rebuffering time), 0 to 1; 0 when nothing was played.
            rebuffer_seconds (float):
            rebuffers (int):
            renditions (AnalyticsReportRenditions): Watch time in seconds by rendition name (watch time on a rendition the
                item does not
                list, or before the player named one, is in `watch_seconds` only).
            startup_ms (Startup): Time to first frame over the range's views, nearest-rank percentiles; null without any.
            to (datetime.date):
            unique_viewers (int): Distinct viewers per day, summed over the days: viewers are a salted daily hash, so one
                person on two days counts twice.
            views (int): Playback sessions that started (one per session, however often it reports a start).
            watch_seconds (float): Seconds actually playing, as the players reported.
     """

    days: list[DayReport]
    errors: int
    from_: datetime.date
    rebuffer_ratio: float
    rebuffer_seconds: float
    rebuffers: int
    renditions: AnalyticsReportRenditions
    startup_ms: Startup
    to: datetime.date
    unique_viewers: int
    views: int
    watch_seconds: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.analytics_report_renditions import AnalyticsReportRenditions # noqa: PLC0415
        from ..models.day_report import DayReport # noqa: PLC0415
        from ..models.startup import Startup # noqa: PLC0415
        days = []
        for days_item_data in self.days:
            days_item = days_item_data.to_dict()
            days.append(days_item)



        errors = self.errors

        from_ = self.from_.isoformat()

        rebuffer_ratio = self.rebuffer_ratio

        rebuffer_seconds = self.rebuffer_seconds

        rebuffers = self.rebuffers

        renditions = self.renditions.to_dict()

        startup_ms = self.startup_ms.to_dict()

        to = self.to.isoformat()

        unique_viewers = self.unique_viewers

        views = self.views

        watch_seconds = self.watch_seconds


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "days": days,
            "errors": errors,
            "from": from_,
            "rebuffer_ratio": rebuffer_ratio,
            "rebuffer_seconds": rebuffer_seconds,
            "rebuffers": rebuffers,
            "renditions": renditions,
            "startup_ms": startup_ms,
            "to": to,
            "unique_viewers": unique_viewers,
            "views": views,
            "watch_seconds": watch_seconds,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.analytics_report_renditions import AnalyticsReportRenditions # noqa: PLC0415
        from ..models.day_report import DayReport # noqa: PLC0415
        from ..models.startup import Startup # noqa: PLC0415
        d = dict(src_dict)
        days = []
        _days = d.pop("days")
        for days_item_data in (_days):
            days_item = DayReport.from_dict(days_item_data)



            days.append(days_item)


        errors = d.pop("errors")

        from_ = datetime.date.fromisoformat(d.pop("from"))




        rebuffer_ratio = d.pop("rebuffer_ratio")

        rebuffer_seconds = d.pop("rebuffer_seconds")

        rebuffers = d.pop("rebuffers")

        renditions = AnalyticsReportRenditions.from_dict(d.pop("renditions"))




        startup_ms = Startup.from_dict(d.pop("startup_ms"))




        to = datetime.date.fromisoformat(d.pop("to"))




        unique_viewers = d.pop("unique_viewers")

        views = d.pop("views")

        watch_seconds = d.pop("watch_seconds")

        analytics_report = cls(
            days=days,
            errors=errors,
            from_=from_,
            rebuffer_ratio=rebuffer_ratio,
            rebuffer_seconds=rebuffer_seconds,
            rebuffers=rebuffers,
            renditions=renditions,
            startup_ms=startup_ms,
            to=to,
            unique_viewers=unique_viewers,
            views=views,
            watch_seconds=watch_seconds,
        )


        analytics_report.additional_properties = d
        return analytics_report

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
