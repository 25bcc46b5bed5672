//! The domain model the layers share: media items, jobs, uploads, the enums stored as text;
//! accounts, published outputs and file names in their own modules.

mod accounts;
mod filename;
mod outputs;

pub use accounts::*;
pub use filename::*;
pub use outputs::*;

use crate::ids::{new_id, JobId, MediaId, UploadId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
#[error("unknown {what} '{value}'")]
pub struct ParseEnumError {
    pub what: &'static str,
    pub value: String,
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        // serde's kebab-case of each variant is its text (a test checks): one word lower-cased,
        // `OciEvents` as `oci-events`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl FromStr for $name {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err(ParseEnumError { what: $what, value: s.to_string() }),
                }
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// What a media item is, decided from its bytes.
    MediaKind, "kind" { Video => "video", Audio => "audio", Image => "image" }
);
string_enum!(
    /// Where a media item is in its life.
    MediaStatus, "status" {
        Uploaded => "uploaded", Queued => "queued", Processing => "processing",
        Ready => "ready", Failed => "failed",
    }
);
string_enum!(
    /// Who may see a media item: `private` (owner and admins), `unlisted` (anyone with the id),
    /// `public` (also listed).
    Visibility, "visibility" { Private => "private", Unlisted => "unlisted", Public => "public" }
);
string_enum!(
    Role, "role" { Admin => "admin", User => "user" }
);
string_enum!(
    /// What an API key may do: `read` (see items, stream, list keys), `upload` (create items
    /// and uploads), `write` (change or delete one's items, revoke keys), `admin` (act as an
    /// administrator; only an admin's key may have it). Login sessions may do everything.
    Scope, "scope" { Read => "read", Upload => "upload", Write => "write", Admin => "admin" }
);
string_enum!(
    /// Where a job is in the queue.
    JobStatus, "job status" {
        Queued => "queued", Running => "running", Done => "done", Failed => "failed",
    }
);
string_enum!(
    /// What a job does (issue 15, chunked encoding): `whole` processes the item (and, for a
    /// long video, becomes the split step that queues the others); `chunk` encodes the video
    /// rungs of one time range; `rest` everything else of a chunked item (audio, text tracks,
    /// thumbnail, storyboard); `assemble` writes the playlists and records the item ready.
    JobKind, "job kind" {
        Whole => "whole", Chunk => "chunk", Rest => "rest", Assemble => "assemble",
    }
);

impl JobKind {
    /// A part of a chunked item: one of the siblings the assemble step waits for.
    pub fn is_part(self) -> bool {
        matches!(self, JobKind::Chunk | JobKind::Rest)
    }
}

/// How far a chunked item's chunk jobs are (the item JSON's `chunks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct ChunkCounts {
    /// Chunks the item's video was split into.
    pub total: u32,
    /// Chunks encoded.
    pub done: u32,
    /// Chunks a worker is encoding now.
    pub running: u32,
}
string_enum!(
    /// Who announced an original (its "object created" event's `source`): a one-request
    /// upload, a finished tus or direct upload, a bucket notification (OCI Events, S3), or
    /// `mediaserver watch`. Stored as this text; every value is written by this server, so an
    /// unknown one read back is an error, as for the other enum columns.
    ObjectSource, "source" {
        Upload => "upload", Tus => "tus", Direct => "direct", OciEvents => "oci-events",
        S3Events => "s3-events", Watch => "watch",
    }
);

#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    pub id: MediaId,
    pub owner_id: UserId,
    pub kind: MediaKind,
    pub status: MediaStatus,
    pub title: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub visibility: Visibility,
    /// Bucket and key of the original object.
    pub bucket: String,
    pub original_key: String,
    pub duration_seconds: Option<f64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub progress: i32,
    pub playable: bool,
    pub error: Option<String>,
    /// What processing produced (empty until then).
    pub outputs: MediaOutputs,
    /// Bumped each time the item is made private (from public or unlisted). A playback token
    /// carries the number it was minted at and plays only while it still matches, so a switch
    /// to private revokes every token handed out before it.
    pub playback_generation: i64,
    /// Set on a clip: the range of its original (a copy of the source's) it is made from.
    pub clip: Option<Clip>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a clip is cut from: `start_seconds..end_seconds` of its original, which is a copy of
/// the source item's (so the clip outlives the source).
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// The item it was made from (which may since have been deleted).
    pub source_id: MediaId,
    pub start_seconds: f64,
    pub end_seconds: f64,
}

/// A unit of work in the durable queue: process one media item.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub media_id: MediaId,
    pub status: JobStatus,
    pub kind: JobKind,
    /// Which chunk a `chunk` job encodes (0-based); `None` for every other kind.
    pub chunk_index: Option<u32>,
    /// Claims so far, including the current one.
    pub attempts: i32,
    pub max_attempts: i32,
    /// Not claimable before this (backoff after a failure).
    pub run_after: DateTime<Utc>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Media {
    /// Prefix under which the original lives (see [`crate::layout`]).
    pub fn originals_prefix(&self) -> String {
        crate::layout::originals_prefix(&self.id)
    }
    /// Prefix under which processing outputs live (see [`crate::layout`]).
    pub fn outputs_prefix(&self) -> String {
        crate::layout::outputs_prefix(&self.id)
    }
}

/// What is known about an original when it is first recorded (uploaded through the API or found
/// in the bucket).
#[derive(Debug, Clone)]
pub struct NewOriginal {
    pub id: MediaId,
    pub owner_id: UserId,
    pub kind: MediaKind,
    pub content_type: String,
    pub filename: String,
    /// `None` or blank: the file name without its extension.
    pub title: Option<String>,
    pub size: i64,
    /// Empty when unknown (objects announced by bucket events are not read whole).
    pub sha256: String,
    pub bucket: String,
    pub key: String,
    pub etag: String,
    /// Who announced it.
    pub source: ObjectSource,
}

impl NewOriginal {
    /// The queued media row and its "object created" event.
    pub fn into_records(self) -> (Media, ObjectEvent) {
        let now = Utc::now();
        let title = self
            .title
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| default_title(&self.filename));
        let event = ObjectEvent {
            id: new_id(),
            media_id: Some(self.id.clone()),
            source: self.source,
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            etag: self.etag,
            size: self.size,
            created_at: now,
        };
        let media = Media {
            id: self.id,
            owner_id: self.owner_id,
            kind: self.kind,
            status: MediaStatus::Queued,
            title,
            filename: self.filename,
            content_type: self.content_type,
            size: self.size,
            sha256: self.sha256,
            visibility: Visibility::Private,
            bucket: self.bucket,
            original_key: self.key,
            duration_seconds: None,
            width: None,
            height: None,
            progress: 0,
            playable: false,
            error: None,
            outputs: MediaOutputs::default(),
            playback_generation: 0,
            clip: None,
            created_at: now,
            updated_at: now,
        };
        (media, event)
    }
}

/// A title from a file name: the name without its extension.
pub fn default_title(filename: &str) -> String {
    match filename.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => filename.to_string(),
    }
}

/// "An object was created" — written in the same transaction as the media row it belongs to;
/// the pipeline consumes these. `(bucket, key, etag)` is unique so a repeated event is a no-op.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectEvent {
    pub id: String,
    pub media_id: Option<MediaId>,
    pub source: ObjectSource,
    pub bucket: String,
    pub key: String,
    pub etag: String,
    pub size: i64,
    pub created_at: DateTime<Utc>,
}

string_enum!(
    /// The order of a list of items: `newest` (first; the default), `oldest`, `title` (A–Z,
    /// case-insensitive), `size` (largest first); ties in id order.
    MediaSort, "sort" { Newest => "newest", Oldest => "oldest", Title => "title", Size => "size" }
);

// Not derived: `string_enum!` writes the derives, and its variants take no `#[default]`.
#[allow(clippy::derivable_impls)]
impl Default for MediaSort {
    fn default() -> Self {
        MediaSort::Newest
    }
}

/// Where the next page of a sorted list starts: just past this item, compared by the sort's key
/// (its title or size, then its id), so items added or removed meanwhile shift nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaAfter {
    pub id: MediaId,
    pub title: String,
    pub size: i64,
}

#[derive(Debug, Clone, Default)]
pub struct MediaFilter {
    /// `None` lists everyone's items (admins).
    pub owner_id: Option<UserId>,
    pub kind: Option<MediaKind>,
    pub status: Option<MediaStatus>,
    pub visibility: Option<Visibility>,
    /// Only items whose title contains this text (case-insensitive for ASCII letters).
    pub title_contains: Option<String>,
    /// Only items whose original has this SHA-256 (lowercase hex): the same file again.
    pub sha256: Option<String>,
    pub sort: MediaSort,
    /// Return items with an id strictly less than this one (newest first).
    pub before_id: Option<MediaId>,
    /// Return items after this one in `sort`'s order (any sort; with `Newest` the same as
    /// `before_id` of its id).
    pub after: Option<MediaAfter>,
    pub limit: u32,
}

#[derive(Debug, Clone, Default)]
pub struct MediaPatch {
    pub title: Option<String>,
    pub visibility: Option<Visibility>,
}

string_enum!(
    /// How the bytes of an upload arrive: tus PATCHes through this server, or one PUT straight
    /// to the bucket (presigned URL / pre-authenticated request / one-time server URL).
    UploadProtocol, "upload protocol" { Tus => "tus", Direct => "direct" }
);
string_enum!(
    /// `active` until the media item exists; `complete` after (kept until it expires, so a
    /// client resuming a finished upload learns it is done).
    UploadStatus, "upload status" { Active => "active", Complete => "complete" }
);

/// An upload in progress. Its id becomes the media item's id; its `key` is where the original
/// will be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub id: UploadId,
    pub owner_id: UserId,
    pub protocol: UploadProtocol,
    pub filename: String,
    pub title: Option<String>,
    pub key: String,
    /// Declared total size in bytes.
    pub length: i64,
    /// Bytes stored and acknowledged so far.
    pub offset: i64,
    /// Provider state needed to continue (JSON; see the storage crate's `ResumableState`), or
    /// for direct uploads the hash of the one-time upload secret.
    pub state: String,
    /// The client's `Upload-Metadata` header, echoed back on HEAD.
    pub metadata: Option<String>,
    pub status: UploadStatus,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip() {
        for k in MediaKind::ALL {
            assert_eq!(k.as_str().parse::<MediaKind>().unwrap(), *k);
        }
        for s in MediaStatus::ALL {
            assert_eq!(s.as_str().parse::<MediaStatus>().unwrap(), *s);
        }
        assert!("movie".parse::<MediaKind>().is_err());
    }

    #[test]
    fn serde_writes_the_stored_text() {
        fn check<T: Serialize + Copy + fmt::Display>(all: &[T]) {
            for v in all {
                assert_eq!(serde_json::to_value(v).unwrap(), v.to_string());
            }
        }
        check(MediaKind::ALL);
        check(MediaStatus::ALL);
        check(Visibility::ALL);
        check(Role::ALL);
        check(Scope::ALL);
        check(JobStatus::ALL);
        check(JobKind::ALL);
        check(ObjectSource::ALL);
        check(UploadProtocol::ALL);
        check(UploadStatus::ALL);
        check(Hdr::ALL);
    }

    #[test]
    fn outputs_stored_before_the_source_was_recorded_still_read() {
        let old: MediaOutputs =
            serde_json::from_str(r#"{"renditions":[],"hls":"stream/master.m3u8","bytes":1}"#)
                .unwrap();
        assert_eq!(old.source, None);
        let source = SourceVideo {
            codec: "hevc".into(),
            width: 320,
            height: 240,
            fps: 25.0,
            hdr: Some(Hdr::Hlg),
            interlaced: false,
            rotation: 0,
            pixel_format: "yuv420p10le".into(),
        };
        let json = serde_json::to_value(&source).unwrap();
        assert_eq!(json["hdr"], "hlg");
        assert_eq!(serde_json::from_value::<SourceVideo>(json).unwrap(), source);
    }

    #[test]
    fn sources_keep_their_stored_text() {
        let stored: Vec<&str> = ObjectSource::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            stored,
            [
                "upload",
                "tus",
                "direct",
                "oci-events",
                "s3-events",
                "watch"
            ]
        );
        for s in ObjectSource::ALL {
            assert_eq!(s.as_str().parse::<ObjectSource>().unwrap(), *s);
        }
        assert!("ftp".parse::<ObjectSource>().is_err());
    }
}
