from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.beacon_type_2_event import BeaconType2Event
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="BeaconType2")



@_attrs_define
class BeaconType2:
    """ Playback stalled (not because of a seek).

        Attributes:
            duration_ms (float): How long, in milliseconds.
            event (BeaconType2Event):
            session (str):
            position_seconds (float | None | Unset):
            rendition (None | str | Unset):
     """

    duration_ms: float
    event: BeaconType2Event
    session: str
    position_seconds: float | None | Unset = UNSET
    rendition: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        duration_ms = self.duration_ms

        event = self.event.value

        session = self.session

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
            "duration_ms": duration_ms,
            "event": event,
            "session": session,
        })
        if position_seconds is not UNSET:
            field_dict["position_seconds"] = position_seconds
        if rendition is not UNSET:
            field_dict["rendition"] = rendition

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        duration_ms = d.pop("duration_ms")

        event = BeaconType2Event(d.pop("event"))




        session = d.pop("session")

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


        beacon_type_2 = cls(
            duration_ms=duration_ms,
            event=event,
            session=session,
            position_seconds=position_seconds,
            rendition=rendition,
        )

        return beacon_type_2

