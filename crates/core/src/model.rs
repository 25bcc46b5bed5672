use crate::ids::{new_id, JobId, MediaId, SessionId, UploadId, UserId};
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
pub struct User {
    pub id: UserId,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    /// `None`: admin if this is the first user, otherwise a plain user (decided atomically).
    pub role: Option<Role>,
}

/// A stored refresh token. Only the SHA-256 of the token is kept.
#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub id: String,
    pub user_id: UserId,
    /// The login this token descends from (by rotation); its access tokens name it.
    pub session_id: SessionId,
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// Outcome of presenting a refresh token for rotation.
#[derive(Debug, Clone, PartialEq)]
pub enum RefreshOutcome {
    /// The old token was valid; it is now revoked and the new one stored, in the old one's
    /// session.
    Rotated {
        user_id: UserId,
        session_id: SessionId,
    },
    /// Unknown or expired token.
    Invalid,
    /// The token was already used or revoked: every token of that user has been revoked.
    Reused { user_id: UserId },
}

/// A long-lived API key. Only the SHA-256 of the secret is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: String,
    pub user_id: UserId,
    pub name: String,
    /// First characters of the key, shown in listings so a user can tell keys apart.
    pub prefix: String,
    pub key_hash: String,
    pub created_at: DateTime<Utc>,
    /// `None`: the key does not expire.
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Scopes,
    /// Written by the store (throttled), `None` on insert.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Whether the key has expired at `now` (expiring exactly now counts).
    pub fn expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }
}

/// A set of [`Scope`]s, kept sorted and without duplicates. Stored as its words joined by
/// spaces (`"read upload"`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Every scope: what a login session, or a key from before scopes existed, may do.
    pub fn all() -> Self {
        Scopes(Scope::ALL.to_vec())
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_subset(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.contains(*s))
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// Space-separated words, as stored.
    pub fn to_words(&self) -> String {
        self.0
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Parses [`Scopes::to_words`]'s form; an unknown word is an error.
    pub fn from_words(words: &str) -> Result<Self, ParseEnumError> {
        words.split_whitespace().map(str::parse).collect()
    }
}

impl FromStr for Scopes {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scopes::from_words(s)
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut v: Vec<Scope> = iter.into_iter().collect();
        // Scope::ALL's order, so stored and listed sets read the same way.
        v.sort_by_key(|s| Scope::ALL.iter().position(|a| a == s));
        v.dedup();
        Scopes(v)
    }
}

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

/// One rung of the published ladder (audio renditions have width and height 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rendition {
    pub name: String,
    pub width: i32,
    pub height: i32,
    /// Peak bits per second, as advertised in the HLS master playlist.
    pub bandwidth: i64,
    /// RFC 6381 codecs string, e.g. `avc1.64001f,mp4a.40.2`.
    pub codecs: String,
    /// The video codec (`h264`, `av1`, `hevc`); `None` for audio renditions and for items
    /// processed before it was recorded (those are H.264).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codec: Option<String>,
}

/// A published audio track (each is a stereo AAC rendition in HLS and DASH).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AudioTrack {
    /// Position in the published order; 0 is the default track.
    pub id: i32,
    /// ISO 639 code from the source (`und` when it had none).
    pub language: String,
    /// The source's title, else the language's English name, else `Audio N`.
    pub name: String,
    /// Channels as published.
    pub channels: i32,
    /// The track players select first.
    pub default: bool,
}

string_enum!(
    /// The HDR transfer a video source was tagged with: `pq` (SMPTE ST 2084, HDR10) or `hlg`
    /// (ARIB STD-B67 hybrid log-gamma). Every rung is tone-mapped to SDR BT.709.
    Hdr, "hdr" { Pq => "pq", Hlg => "hlg" }
);

/// What the source video stream was, and what the pipeline made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SourceVideo {
    /// ffprobe's codec name, e.g. `h264`, `hevc`, `prores`.
    pub codec: String,
    /// Display size: sample aspect ratio applied and swapped for a ±90° rotation.
    pub width: i32,
    pub height: i32,
    /// The rungs' constant frame rate (the source's nominal rate, at most 60).
    pub fps: f64,
    /// The source's HDR transfer (tone-mapped to SDR), `None` for SDR.
    pub hdr: Option<Hdr>,
    /// The source was interlaced (and every rung was deinterlaced).
    pub interlaced: bool,
    /// Clockwise rotation from the display matrix, in degrees: 0, 90, 180 or 270.
    pub rotation: i32,
    /// ffprobe's pixel format, e.g. `yuv420p10le`.
    pub pixel_format: String,
}

/// Whether a text track transcribes speech only (`subtitles`) or also sounds and speakers
/// (`captions`, for viewers who cannot hear the audio).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TextTrackKind {
    Subtitles,
    Captions,
}

/// Where a text track came from: a subtitle stream of the source, or a file the owner uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TextTrackSource {
    Embedded,
    Upload,
}

/// A WebVTT text track published beside the streams (HLS `SUBTITLES` rendition, DASH text
/// adaptation set). Its files are [`crate::layout::text_track_vtt`] and
/// [`crate::layout::text_track_playlist`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TextTrack {
    /// `s0`, `s1`… for the source's streams in order; uploads get their own ids. Only ASCII
    /// letters, digits and `-`: it is part of the file names.
    pub id: String,
    /// ISO 639 code (`und` when unknown).
    pub language: String,
    /// What players show in their captions menu.
    pub label: String,
    pub kind: TextTrackKind,
    pub source: TextTrackSource,
}

/// An image variant (e.g. `thumb` as WebP).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Variant {
    pub name: String,
    pub width: i32,
    pub height: i32,
    pub content_type: String,
    /// Object key relative to the item's output prefix, e.g. `variants/thumb.webp`.
    pub path: String,
}

/// Everything processing produced for an item. Paths are relative to the item's outputs prefix
/// (`media/{id}/`, see [`crate::layout`]) in the output bucket. Stored as one JSON document: it
/// is written once, when processing finishes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaOutputs {
    pub renditions: Vec<Rendition>,
    pub variants: Vec<Variant>,
    /// HLS master playlist, e.g. `stream/master.m3u8`.
    pub hls: Option<String>,
    /// DASH manifest, e.g. `stream/manifest.mpd` (segments shared with HLS).
    pub dash: Option<String>,
    pub thumbnail: Option<String>,
    /// Storyboard WebVTT; its cues point into a sprite next to it.
    pub storyboard: Option<String>,
    /// Total bytes of all outputs.
    pub bytes: i64,
    /// Every published audio track, default first.
    pub audio_tracks: Vec<AudioTrack>,
    /// What processing left out of the source and why, for the user (e.g. an audio track that
    /// could not be decoded).
    pub warnings: Vec<String>,
    /// The source video stream (`None` for audio and images, and for items processed before
    /// it was recorded).
    pub source: Option<SourceVideo>,
    /// Text tracks made from the source's subtitle streams (uploaded ones live in the database).
    pub text_tracks: Vec<TextTrack>,
    /// Files to download, remuxed from the published rungs without re-encoding: MP4s of some
    /// video rungs, an M4A of the default audio track (see [`crate::layout::download_file`]).
    pub downloads: Vec<Download>,
    /// How the item was encoded, what it cost and how good each rendition came out (`None` for
    /// images and audio, and items processed before it was recorded).
    pub encode: Option<crate::EncodeReport>,
}

/// A downloadable file made from the published streams (`downloads/{name}.mp4|.m4a`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Download {
    /// `720p`… for a video rung, `audio` for the M4A: the last segment of its public path.
    pub name: String,
    /// Relative to the item's outputs prefix, e.g. `downloads/720p.mp4`.
    pub path: String,
    /// 0 for the M4A.
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    /// `video/mp4` or `audio/mp4`.
    pub content_type: String,
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

/// The longest file name [`safe_filename`] returns, in characters and in bytes. Filesystems
/// limit a name to 255 bytes (Local storage; S3 servers that keep objects as files), and
/// storage names an original's staging objects after it (`.partial` and `#{n}` on Local,
/// `.pending.{start}-{len}` for multipart providers: at most 50 bytes more), so the bytes leave
/// room for those.
pub const MAX_FILENAME_CHARS: usize = 120;
/// See [`MAX_FILENAME_CHARS`].
pub const MAX_FILENAME_BYTES: usize = 200;

/// Turns a client-supplied file name into one that is safe as the last segment of an object key:
/// no path separators, no control characters, no bidirectional-text controls (a right-to-left
/// override before `fdp.exe` shows `invoice…fdp.exe` as `invoiceexe.pdf`), no leading dots, at
/// most [`MAX_FILENAME_CHARS`] characters and [`MAX_FILENAME_BYTES`] bytes, cut at a character
/// boundary keeping the extension.
pub fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !is_bidi_control(*c))
        .map(|c| {
            if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*' | '%' | '#') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let out = truncate_keeping_extension(trimmed);
    if out.is_empty() {
        "upload".to_string()
    } else {
        out
    }
}

/// Unicode's explicit bidirectional formatting characters: embeddings, overrides, isolates and
/// the implicit marks.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// `name` cut to the filename limits at a character boundary; a short extension (`.mp4`) is
/// kept and the part before it cut instead.
fn truncate_keeping_extension(name: &str) -> String {
    let fits = |s: &str| s.len() <= MAX_FILENAME_BYTES && s.chars().count() <= MAX_FILENAME_CHARS;
    if fits(name) {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() && ext.len() <= 16 => {
            (stem, &name[stem.len()..])
        }
        _ => (name, ""),
    };
    let (max_bytes, max_chars) = (
        MAX_FILENAME_BYTES - ext.len(),
        MAX_FILENAME_CHARS - ext.chars().count(),
    );
    let mut end = 0;
    for (n, (i, c)) in stem.char_indices().enumerate() {
        if n == max_chars || i + c.len_utf8() > max_bytes {
            break;
        }
        end = i + c.len_utf8();
    }
    format!("{}{ext}", stem[..end].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_a_sorted_set_stored_as_words() {
        let s: Scopes = [Scope::Write, Scope::Read, Scope::Write]
            .into_iter()
            .collect();
        assert_eq!(s.to_words(), "read write");
        assert_eq!(Scopes::from_words("write  read").unwrap(), s);
        assert_eq!(Scopes::from_words("").unwrap(), Scopes::default());
        assert!(Scopes::from_words("read root").is_err());
        assert!(s.is_subset(&Scopes::all()));
        assert!(!Scopes::all().is_subset(&s));
        assert_eq!(Scopes::all().to_words(), "read upload write admin");
    }

    #[test]
    fn safe_filename_strips_paths_and_controls() {
        assert_eq!(safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(safe_filename("C:\\Users\\a\\clip.mp4"), "clip.mp4");
        assert_eq!(safe_filename("..."), "upload");
        assert_eq!(safe_filename("a\u{0}b\nc.mp4"), "a_b_c.mp4");
        assert_eq!(
            safe_filename("my holiday – été.mov"),
            "my holiday – été.mov"
        );
        assert_eq!(safe_filename(""), "upload");
        // Local storage reserves names ending in `#<digits>` for staging files.
        assert_eq!(safe_filename("clip#1"), "clip_1");
        assert_eq!(safe_filename(&"x".repeat(500)).len(), 120);
    }

    #[test]
    fn safe_filename_cuts_long_names_by_bytes_keeping_the_extension() {
        // 90 CJK characters are 270 bytes; 130 emoji 520.
        let cjk = safe_filename(&format!("{}.mp4", "漢".repeat(90)));
        assert!(cjk.len() <= MAX_FILENAME_BYTES, "{}", cjk.len());
        assert_eq!(cjk, format!("{}.mp4", "漢".repeat(65)));
        let emoji = safe_filename(&format!("{}.mov", "😀".repeat(130)));
        assert_eq!(emoji, format!("{}.mov", "😀".repeat(49)));
        assert_eq!(
            safe_filename(&format!("{}.mp4", "x".repeat(300))),
            format!("{}.mp4", "x".repeat(116))
        );
        // No extension, or one too long to be one: the end is cut.
        assert_eq!(safe_filename(&"é".repeat(150)), "é".repeat(100));
        let long_ext = format!("a.{}", "b".repeat(300));
        assert_eq!(safe_filename(&long_ext).len(), 120);
        // Room for the suffixes storage adds to a staging object's name.
        for suffix in [
            format!(".pending.{}-{}", u64::MAX, u64::MAX),
            ".partial".to_string(),
            format!("#{}", u64::MAX),
        ] {
            assert!(MAX_FILENAME_BYTES + suffix.len() <= 255, "{suffix}");
        }
    }

    #[test]
    fn safe_filename_strips_bidi_controls() {
        assert_eq!(safe_filename("invoice\u{202E}4pm.exe"), "invoice4pm.exe");
        assert_eq!(
            safe_filename(
                "\u{2066}a\u{2067}b\u{2068}c\u{2069}\u{200E}\u{200F}\u{061C}\
                 \u{202A}\u{202B}\u{202C}\u{202D}.jpg"
            ),
            "abc.jpg"
        );
        assert_eq!(safe_filename("\u{202E}"), "upload");
    }

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
