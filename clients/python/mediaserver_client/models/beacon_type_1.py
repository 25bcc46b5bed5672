from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.beacon_type_1_event import BeaconType1Event
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="BeaconType1")



@_attrs_define
class BeaconType1:
    """ Every 10 s while playing.

        Attributes:
            event (BeaconType1Event):
            session (str):
            watch_seconds (float): Seconds actually playing since the previous beacon (at most 60).
            position_seconds (float | None | Unset):
            rendition (None | str | Unset):
     """

    event: BeaconType1Event
    session: str
    watch_seconds: float
    position_seconds: float | None | Unset = UNSET
    rendition: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        event = self.event.value

        session = self.session

        watch_seconds = self.watch_seconds

        position_seconds: float | None | Unset
        if isinstance(self.position_seconds, Unset):
            position_seconds = UNSET
        else:
            position_seconds = self.position_seconds

        rendition: None | str | Unset
        if isinstance(self.rendition, Unset):
            rendition = UNSET
        else:
            rendition = self.rendition


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "event": event,
            "session": session,
            "watch_seconds": watch_seconds,
        })
        if position_seconds is not UNSET:
            field_dict["position_seconds"] = position_seconds
        if rendition is not UNSET:
            field_dict["rendition"] = rendition

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event = BeaconType1Event(d.pop("event"))




        session = d.pop("session")

        watch_seconds = d.pop("watch_seconds")

        def _parse_position_seconds(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        position_seconds = _parse_position_seconds(d.pop("position_seconds", UNSET))


        def _parse_rendition(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        rendition = _parse_rendition(d.pop("rendition", UNSET))


        beacon_type_1 = cls(
            event=event,
            session=session,
            watch_seconds=watch_seconds,
            position_seconds=position_seconds,
            rendition=rendition,
        )

        return beacon_type_1

