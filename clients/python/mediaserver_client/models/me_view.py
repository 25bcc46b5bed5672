from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.role import Role
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.storage_view import StorageView





T = TypeVar("T", bound="MeView")



@_attrs_define
class MeView:
    """ 
        Attributes:
            created_at (datetime.datetime):
            email (str):
            id (str):
            role (Role):
            storage (StorageView): What a user has in storage, and their quota.
     """

    created_at: datetime.datetime
    email: str
    id: str
    role: Role
    storage: StorageView
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.storage_view import StorageView # noqa: PLC0415
        created_at = self.created_at.isoformat()

        email = self.email

        id = self.id

        role = self.role.value

        storage = self.storage.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "created_at": created_at,
            "email": email,
            "id": id,
            "role": role,
            "storage": storage,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.storage_view import StorageView # noqa: PLC0415
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        email = d.pop("email")

        id = d.pop("id")

        role = Role(d.pop("role"))




        storage = StorageView.from_dict(d.pop("storage"))




        me_view = cls(
            created_at=created_at,
            email=email,
            id=id,
            role=role,
            storage=storage,
        )


        me_view.additional_properties = d
        return me_view

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
