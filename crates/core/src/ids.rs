//! Typed ids: [`MediaId`], [`UserId`], [`UploadId`], [`JobId`] and [`SessionId`]. Each is the text of a
//! time-ordered UUID (v7), so ordering ids is ordering by creation. A value of one of these
//! types has been checked: parsing (`FromStr`, `TryFrom<String>`, serde) is the one place where
//! an id's format is checked, so an id from a client, a bucket key or a database row is checked
//! where it enters and code past that point cannot be handed a malformed one.
//!
//! The text is kept as given, not normalised: an id in upper-case hex is well formed but names
//! nothing (ids are written in lower case), exactly as before the types existed.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// Generates a new time-ordered identifier (UUIDv7) as text, for the records that have no id
/// type of their own (events, refresh tokens, API keys).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Text that is not an id: what it was meant to be, and the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a {what} id: '{value}'")]
pub struct InvalidId {
    pub what: &'static str,
    pub value: String,
}

/// Whether `s` is a canonical, hyphenated UUID as produced by [`new_id`] (the only length-36
/// form `Uuid::parse_str` accepts).
fn well_formed(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::parse_str(s).is_ok()
}

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident, $what:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// A fresh id (UUIDv7: later ids sort after earlier ones).
            // Not `Default`: a default that is new every time would surprise.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                $name(new_id())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                Self::try_from(s.to_string())
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, InvalidId> {
                if well_formed(&s) {
                    Ok($name(s))
                } else {
                    Err(InvalidId { what: $what, value: s })
                }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::try_from(s).map_err(serde::de::Error::custom)
            }
        }

        // A plain string. The API's views mark their id fields `#[schema(value_type = String)]`
        // so that the document inlines them as it always did, instead of referring to a
        // component of this name.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <String as utoipa::PartialSchema>::schema()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

id_type!(
    /// A media item's id. An upload's item gets the upload's id (see [`UploadId`]).
    MediaId, "media"
);
id_type!(
    /// A user's id.
    UserId, "user"
);
id_type!(
    /// An upload's (tus or direct) id: the id its media item will have.
    UploadId, "upload"
);
id_type!(
    /// A processing job's id.
    JobId, "job"
);
id_type!(
    /// A webhook delivery's id, which is also its event's `id`: the same on every redelivery,
    /// so receivers can drop duplicates.
    DeliveryId, "delivery"
);
id_type!(
    /// A login session's id: the refresh tokens rotated from one login share it, and the access
    /// tokens issued to them name it, so ending the session ends them all.
    SessionId, "session"
);

// An upload and the media item it becomes share one id.
impl From<UploadId> for MediaId {
    fn from(id: UploadId) -> MediaId {
        MediaId(id.0)
    }
}

impl From<MediaId> for UploadId {
    fn from(id: MediaId) -> UploadId {
        UploadId(id.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered_uuids() {
        let a = MediaId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = MediaId::new();
        assert!(a < b);
        assert_eq!(a.as_str().parse::<MediaId>().unwrap(), a);
        assert!(new_id().parse::<JobId>().is_ok());
    }

    #[test]
    fn only_canonical_uuids_are_ids() {
        for bad in [
            "",
            "../x",
            "not-an-id",
            // Forms `Uuid::parse_str` accepts that are not the canonical one.
            "0190a5b200007000800000000000000a",
            "{0190a5b2-0000-7000-8000-00000000000a}",
            "urn:uuid:0190a5b2-0000-7000-8000-00000000000a",
            "0190a5b2-0000-7000-8000-00000000000g",
        ] {
            let err = bad.parse::<UserId>().unwrap_err();
            assert_eq!(err.what, "user");
            assert!(serde_json::from_value::<UserId>(serde_json::json!(bad)).is_err());
        }
        // Kept as given (not lower-cased): it names nothing, as before.
        let upper = "0190A5B2-0000-7000-8000-00000000000A"
            .parse::<UploadId>()
            .unwrap();
        assert_eq!(upper.as_str(), "0190A5B2-0000-7000-8000-00000000000A");
    }

    #[test]
    fn serde_is_the_plain_string() {
        let id = MediaId::new();
        let json = serde_json::to_value(&id).unwrap();
        assert_eq!(json, serde_json::json!(id.as_str()));
        assert_eq!(serde_json::from_value::<MediaId>(json).unwrap(), id);
    }
}
