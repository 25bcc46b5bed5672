from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.role import Role
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.storage_view import StorageView





T = TypeVar("T", bound="AdminUserView")



@_attrs_define
class AdminUserView:
    """ 
        Attributes:
            created_at (datetime.datetime):
            disabled (bool):
            email (str):
            id (str):
            media_count (int):
            role (Role):
            storage (StorageView): What a user has in storage, and their quota.
            storage_bytes (int): What the quota counts: originals plus unfinished uploads.
            disabled_at (datetime.datetime | None | Unset):
     """

    created_at: datetime.datetime
    disabled: bool
    email: str
    id: str
    media_count: int
    role: Role
    storage: StorageView
    storage_bytes: int
    disabled_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.storage_view import StorageView # noqa: PLC0415
        created_at = self.created_at.isoformat()

        disabled = self.disabled

        email = self.email

        id = self.id

        media_count = self.media_count

        role = self.role.value

        storage = self.storage.to_dict()

        storage_bytes = self.storage_bytes

        disabled_at: None | str | Unset
        if isinstance(self.disabled_at, Unset):
            disabled_at = UNSET
        elif isinstance(self.disabled_at, datetime.datetime):
            disabled_at = self.disabled_at.isoformat()
        else:
            disabled_at = self.disabled_at


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "created_at": created_at,
            "disabled": disabled,
            "email": email,
            "id": id,
            "media_count": media_count,
            "role": role,
            "storage": storage,
            "storage_bytes": storage_bytes,
        })
        if disabled_at is not UNSET:
            field_dict["disabled_at"] = disabled_at

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.storage_view import StorageView # noqa: PLC0415
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        disabled = d.pop("disabled")

        email = d.pop("email")

        id = d.pop("id")

        media_count = d.pop("media_count")

        role = Role(d.pop("role"))




        storage = StorageView.from_dict(d.pop("storage"))




        storage_bytes = d.pop("storage_bytes")

        def _parse_disabled_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                disabled_at_type_0 = datetime.datetime.fromisoformat(data)



                return disabled_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        disabled_at = _parse_disabled_at(d.pop("disabled_at", UNSET))


        admin_user_view = cls(
            created_at=created_at,
            disabled=disabled,
            email=email,
            id=id,
            media_count=media_count,
            role=role,
            storage=storage,
            storage_bytes=storage_bytes,
            disabled_at=disabled_at,
        )


        admin_user_view.additional_properties = d
        return admin_user_view

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
