from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.job_status import JobStatus
from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="JobView")



@_attrs_define
class JobView:
    """ 
        Attributes:
            attempts (int): Attempts so far, of `max_attempts`.
            created_at (datetime.datetime):
            id (str):
            max_attempts (int):
            media_id (str):
            owner_email (str):
            owner_id (str):
            run_after (datetime.datetime): A queued job is not started before this (backoff after a failed attempt).
            status (JobStatus): Where a job is in the queue.
            title (str): The item's title.
            updated_at (datetime.datetime):
            last_error (None | str | Unset): Why the last attempt failed, in words for the user (details are in the server
                log).
     """

    attempts: int
    created_at: datetime.datetime
    id: str
    max_attempts: int
    media_id: str
    owner_email: str
    owner_id: str
    run_after: datetime.datetime
    status: JobStatus
    title: str
    updated_at: datetime.datetime
    last_error: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        attempts = self.attempts

        created_at = self.created_at.isoformat()

        id = self.id

        max_attempts = self.max_attempts

        media_id = self.media_id

        owner_email = self.owner_email

        owner_id = self.owner_id

        run_after = self.run_after.isoformat()

        status = self.status.value

        title = self.title

        updated_at = self.updated_at.isoformat()

        last_error: None | str | Unset
        if isinstance(self.last_error, Unset):
            last_error = UNSET
        else:
            last_error = self.last_error


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "attempts": attempts,
            "created_at": created_at,
            "id": id,
            "max_attempts": max_attempts,
            "media_id": media_id,
            "owner_email": owner_email,
            "owner_id": owner_id,
            "run_after": run_after,
            "status": status,
            "title": title,
            "updated_at": updated_at,
        })
        if last_error is not UNSET:
            field_dict["last_error"] = last_error

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attempts = d.pop("attempts")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        id = d.pop("id")

        max_attempts = d.pop("max_attempts")

        media_id = d.pop("media_id")

        owner_email = d.pop("owner_email")

        owner_id = d.pop("owner_id")

        run_after = datetime.datetime.fromisoformat(d.pop("run_after"))




        status = JobStatus(d.pop("status"))




        title = d.pop("title")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        def _parse_last_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        last_error = _parse_last_error(d.pop("last_error", UNSET))


        job_view = cls(
            attempts=attempts,
            created_at=created_at,
            id=id,
            max_attempts=max_attempts,
            media_id=media_id,
            owner_email=owner_email,
            owner_id=owner_id,
            run_after=run_after,
            status=status,
            title=title,
            updated_at=updated_at,
            last_error=last_error,
        )


        job_view.additional_properties = d
        return job_view

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
