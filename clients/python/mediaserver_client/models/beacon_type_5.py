from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.beacon_type_5_event import BeaconType5Event
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="BeaconType5")



@_attrs_define
class BeaconType5:
    """ Playback ended or the page closed.

        Attributes:
            event (BeaconType5Event):
            session (str):
            position_seconds (float | None | Unset):
            rendition (None | str | Unset):
            watch_seconds (float | None | Unset): Seconds actually playing since the previous beacon (at most 60).
     """

    event: BeaconType5Event
    session: str
    position_seconds: float | None | Unset = UNSET
    rendition: None | str | Unset = UNSET
    watch_seconds: float | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
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

        watch_seconds: float | None | Unset
        if isinstance(self.watch_seconds, Unset):
            watch_seconds = UNSET
        else:
            watch_seconds = self.watch_seconds


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "event": event,
            "session": session,
        })
        if position_seconds is not UNSET:
            field_dict["position_seconds"] = position_seconds
        if rendition is not UNSET:
            field_dict["rendition"] = rendition
        if watch_seconds is not UNSET:
            field_dict["watch_seconds"] = watch_seconds

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event = BeaconType5Event(d.pop("event"))




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


        def _parse_watch_seconds(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        watch_seconds = _parse_watch_seconds(d.pop("watch_seconds", UNSET))


        beacon_type_5 = cls(
            event=event,
            session=session,
            position_seconds=position_seconds,
            rendition=rendition,
            watch_seconds=watch_seconds,
        )

        return beacon_type_5

