from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.beacon_type_4_event import BeaconType4Event
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="BeaconType4")



@_attrs_define
class BeaconType4:
    """ A playback error.

        Attributes:
            event (BeaconType4Event):
            session (str):
            message (None | str | Unset): What went wrong (checked and counted, not stored).
            position_seconds (float | None | Unset):
            rendition (None | str | Unset):
     """

    event: BeaconType4Event
    session: str
    message: None | str | Unset = UNSET
    position_seconds: float | None | Unset = UNSET
    rendition: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        event = self.event.value

        session = self.session

        message: None | str | Unset
        if isinstance(self.message, Unset):
            message = UNSET
        else:
            message = self.message

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
        })
        if message is not UNSET:
            field_dict["message"] = message
        if position_seconds is not UNSET:
            field_dict["position_seconds"] = position_seconds
        if rendition is not UNSET:
            field_dict["rendition"] = rendition

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event = BeaconType4Event(d.pop("event"))




        session = d.pop("session")

        def _parse_message(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        message = _parse_message(d.pop("message", UNSET))


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


        beacon_type_4 = cls(
            event=event,
            session=session,
            message=message,
            position_seconds=position_seconds,
            rendition=rendition,
        )

        return beacon_type_4

