from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="ClipRequest")



@_attrs_define
class ClipRequest:
    """ 
        Attributes:
            end_seconds (float): Where it ends (after `start_seconds`, at most the source's duration).
            start_seconds (float): Where the clip starts in the source, in seconds (0 or more, before its end).
            title (None | str | Unset): The clip's title (default: the source's title with " (clip)"). At most 200
                characters. Example: The best part.
     """

    end_seconds: float
    start_seconds: float
    title: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        end_seconds = self.end_seconds

        start_seconds = self.start_seconds

        title: None | str | Unset
        if isinstance(self.title, Unset):
            title = UNSET
        else:
            title = self.title


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "end_seconds": end_seconds,
            "start_seconds": start_seconds,
        })
        if title is not UNSET:
            field_dict["title"] = title

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        end_seconds = d.pop("end_seconds")

        start_seconds = d.pop("start_seconds")

        def _parse_title(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        title = _parse_title(d.pop("title", UNSET))


        clip_request = cls(
            end_seconds=end_seconds,
            start_seconds=start_seconds,
            title=title,
        )

        return clip_request

