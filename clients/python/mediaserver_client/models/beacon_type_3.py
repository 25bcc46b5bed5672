from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.beacon_type_3_event import BeaconType3Event
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="BeaconType3")



@_attrs_define
class BeaconType3:
    """ The player switched to `rendition`.

        Attributes:
            event (BeaconType3Event):
            rendition (str):
            session (str):
            position_seconds (float | None | Unset):
     """

    event: BeaconType3Event
    rendition: str
    session: str
    position_seconds: float | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        event = self.event.value

        rendition = self.rendition

        session = self.session

        position_seconds: float | None | Unset
        if isinstance(self.position_seconds, Unset):
            position_seconds = UNSET
        else:
            position_seconds = self.position_seconds


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "event": event,
            "rendition": rendition,
            "session": session,
        })
        if position_seconds is not UNSET:
            field_dict["position_seconds"] = position_seconds

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event = BeaconType3Event(d.pop("event"))




        rendition = d.pop("rendition")

        session = d.pop("session")

        def _parse_position_seconds(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        position_seconds = _parse_position_seconds(d.pop("position_seconds", UNSET))


        beacon_type_3 = cls(
            event=event,
            rendition=rendition,
            session=session,
            position_seconds=position_seconds,
        )

        return beacon_type_3

