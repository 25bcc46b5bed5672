from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.beacon_type_0_event import BeaconType0Event
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="BeaconType0")



@_attrs_define
class BeaconType0:
    """ Playback started (the first frame is shown): a session's first counts one view.

        Attributes:
            event (BeaconType0Event):
            session (str):
            position_seconds (float | None | Unset):
            rendition (None | str | Unset):
            startup_ms (float | None | Unset): Milliseconds from the play request to the first frame.
     """

    event: BeaconType0Event
    session: str
    position_seconds: float | None | Unset = UNSET
    rendition: None | str | Unset = UNSET
    startup_ms: float | None | Unset = UNSET





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

        startup_ms: float | None | Unset
        if isinstance(self.startup_ms, Unset):
            startup_ms = UNSET
        else:
            startup_ms = self.startup_ms


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "event": event,
            "session": session,
        })
        if position_seconds is not UNSET:
            field_dict["position_seconds"] = position_seconds
        if rendition is not UNSET:
            field_dict["rendition"] = rendition
        if startup_ms is not UNSET:
            field_dict["startup_ms"] = startup_ms

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event = BeaconType0Event(d.pop("event"))




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


        def _parse_startup_ms(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        startup_ms = _parse_startup_ms(d.pop("startup_ms", UNSET))


        beacon_type_0 = cls(
            event=event,
            session=session,
            position_seconds=position_seconds,
            rendition=rendition,
            startup_ms=startup_ms,
        )

        return beacon_type_0

