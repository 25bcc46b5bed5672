from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.direct_upload_headers import DirectUploadHeaders





T = TypeVar("T", bound="DirectUpload")



@_attrs_define
class DirectUpload:
    """ 
        Attributes:
            complete_url (str): Where to POST once the PUT succeeded (unless the bucket's events do it for you).
            expires_at (datetime.datetime):
            headers (DirectUploadHeaders): Headers to send with the PUT (none are required today).
            id (str): The media item's id once complete; pass it to `/v1/media/{id}/complete`.
            method (str):
            target (str): `presigned` (straight to the bucket) or `server` (a one-time URL on this server).
            upload_url (str): PUT the file's bytes here before `expires_at`.
     """

    complete_url: str
    expires_at: datetime.datetime
    headers: DirectUploadHeaders
    id: str
    method: str
    target: str
    upload_url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.direct_upload_headers import DirectUploadHeaders # noqa: PLC0415
        complete_url = self.complete_url

        expires_at = self.expires_at.isoformat()

        headers = self.headers.to_dict()

        id = self.id

        method = self.method

        target = self.target

        upload_url = self.upload_url


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "complete_url": complete_url,
            "expires_at": expires_at,
            "headers": headers,
            "id": id,
            "method": method,
            "target": target,
            "upload_url": upload_url,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.direct_upload_headers import DirectUploadHeaders # noqa: PLC0415
        d = dict(src_dict)
        complete_url = d.pop("complete_url")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))




        headers = DirectUploadHeaders.from_dict(d.pop("headers"))




        id = d.pop("id")

        method = d.pop("method")

        target = d.pop("target")

        upload_url = d.pop("upload_url")

        direct_upload = cls(
            complete_url=complete_url,
            expires_at=expires_at,
            headers=headers,
            id=id,
            method=method,
            target=target,
            upload_url=upload_url,
        )


        direct_upload.additional_properties = d
        return direct_upload

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
