from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.media_kind import MediaKind
from ..models.media_status import MediaStatus
from ..models.visibility import Visibility
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.audio_track_view import AudioTrackView
  from ..models.chunk_counts import ChunkCounts
  from ..models.download_view import DownloadView
  from ..models.encode_report import EncodeReport
  from ..models.playback_view import PlaybackView
  from ..models.rendition_view import RenditionView
  from ..models.signed_urls import SignedUrls
  from ..models.source_view import SourceView
  from ..models.text_track_view import TextTrackView
  from ..models.variant_view import VariantView





T = TypeVar("T", bound="MediaView")



@_attrs_define
class MediaView:
    """ A media item as the API shows it.

        Attributes:
            audio_tracks (list[AudioTrackView]): Every published audio track, default first.
            content_type (str):
            created_at (datetime.datetime):
            downloads (list[DownloadView]): MP4s of some rungs (`DOWNLOAD_RENDITIONS`) and an M4A of the default audio
                track; empty
                until the item is ready (and for items processed before downloads existed, until
                `mediaserver backfill-downloads` runs).
            filename (str):
            id (str):
            kind (MediaKind): What a media item is, decided from its bytes.
            original_url (str):
            owner_id (str):
            playable (bool): True once enough is published to start playback.
            progress (int): Processing progress, 0–100.
            renditions (list[RenditionView]):
            sha256 (str): SHA-256 of the original, hex.
            size (int):
            status (MediaStatus): Where a media item is in its life.
            text_tracks (list[TextTrackView]): Every text track: the source's subtitle streams first, then uploaded files
                (oldest
                first).
            title (str):
            updated_at (datetime.datetime):
            variants (list[VariantView]):
            visibility (Visibility): Who may see a media item: `private` (owner and admins), `unlisted` (anyone with the
                id),
                `public` (also listed).
            warnings (list[str]): What processing left out of the source and why (e.g. an audio track that could not be
                decoded); the item is published without it.
            chunks (ChunkCounts | None | Unset):
            duration_seconds (float | None | Unset):
            encode (EncodeReport | None | Unset):
            error (None | str | Unset): Why processing failed, when `status` is `failed`.
            height (int | None | Unset):
            playback (None | PlaybackView | Unset):
            queue_position (int | None | Unset): While `status` is `queued`: how many queued jobs a worker takes before this
                item's
                (images go before audio and video, then first come first served); null otherwise.
            signed (None | SignedUrls | Unset):
            source (None | SourceView | Unset):
            storyboard_url (None | str | Unset): Storyboard WebVTT (cues point into a sprite next to it), for scrubbing
                previews.
            thumbnail_url (None | str | Unset):
            width (int | None | Unset):
     """

    audio_tracks: list[AudioTrackView]
    content_type: str
    created_at: datetime.datetime
    downloads: list[DownloadView]
    filename: str
    id: str
    kind: MediaKind
    original_url: str
    owner_id: str
    playable: bool
    progress: int
    renditions: list[RenditionView]
    sha256: str
    size: int
    status: MediaStatus
    text_tracks: list[TextTrackView]
    title: str
    updated_at: datetime.datetime
    variants: list[VariantView]
    visibility: Visibility
    warnings: list[str]
    chunks: ChunkCounts | None | Unset = UNSET
    duration_seconds: float | None | Unset = UNSET
    encode: EncodeReport | None | Unset = UNSET
    error: None | str | Unset = UNSET
    height: int | None | Unset = UNSET
    playback: None | PlaybackView | Unset = UNSET
    queue_position: int | None | Unset = UNSET
    signed: None | SignedUrls | Unset = UNSET
    source: None | SourceView | Unset = UNSET
    storyboard_url: None | str | Unset = UNSET
    thumbnail_url: None | str | Unset = UNSET
    width: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.audio_track_view import AudioTrackView # noqa: PLC0415
        from ..models.chunk_counts import ChunkCounts # noqa: PLC0415
        from ..models.download_view import DownloadView # noqa: PLC0415
        from ..models.encode_report import EncodeReport # noqa: PLC0415
        from ..models.playback_view import PlaybackView # noqa: PLC0415
        from ..models.rendition_view import RenditionView # noqa: PLC0415
        from ..models.signed_urls import SignedUrls # noqa: PLC0415
        from ..models.source_view import SourceView # noqa: PLC0415
        from ..models.text_track_view import TextTrackView # noqa: PLC0415
        from ..models.variant_view import VariantView # noqa: PLC0415
        audio_tracks = []
        for audio_tracks_item_data in self.audio_tracks:
            audio_tracks_item = audio_tracks_item_data.to_dict()
            audio_tracks.append(audio_tracks_item)



        content_type = self.content_type

        created_at = self.created_at.isoformat()

        downloads = []
        for downloads_item_data in self.downloads:
            downloads_item = downloads_item_data.to_dict()
            downloads.append(downloads_item)



        filename = self.filename

        id = self.id

        kind = self.kind.value

        original_url = self.original_url

        owner_id = self.owner_id

        playable = self.playable

        progress = self.progress

        renditions = []
        for renditions_item_data in self.renditions:
            renditions_item = renditions_item_data.to_dict()
            renditions.append(renditions_item)



        sha256 = self.sha256

        size = self.size

        status = self.status.value

        text_tracks = []
        for text_tracks_item_data in self.text_tracks:
            text_tracks_item = text_tracks_item_data.to_dict()
            text_tracks.append(text_tracks_item)



        title = self.title

        updated_at = self.updated_at.isoformat()

        variants = []
        for variants_item_data in self.variants:
            variants_item = variants_item_data.to_dict()
            variants.append(variants_item)



        visibility = self.visibility.value

        warnings = self.warnings



        chunks: dict[str, Any] | None | Unset
        if isinstance(self.chunks, Unset):
            chunks = UNSET
        elif isinstance(self.chunks, ChunkCounts):
            chunks = self.chunks.to_dict()
        else:
            chunks = self.chunks

        duration_seconds: float | None | Unset
        if isinstance(self.duration_seconds, Unset):
            duration_seconds = UNSET
        else:
            duration_seconds = self.duration_seconds

        encode: dict[str, Any] | None | Unset
        if isinstance(self.encode, Unset):
            encode = UNSET
        elif isinstance(self.encode, EncodeReport):
            encode = self.encode.to_dict()
        else:
            encode = self.encode

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        height: int | None | Unset
        if isinstance(self.height, Unset):
            height = UNSET
        else:
            height = self.height

        playback: dict[str, Any] | None | Unset
        if isinstance(self.playback, Unset):
            playback = UNSET
        elif isinstance(self.playback, PlaybackView):
            playback = self.playback.to_dict()
        else:
            playback = self.playback

        queue_position: int | None | Unset
        if isinstance(self.queue_position, Unset):
            queue_position = UNSET
        else:
            queue_position = self.queue_position

        signed: dict[str, Any] | None | Unset
        if isinstance(self.signed, Unset):
            signed = UNSET
        elif isinstance(self.signed, SignedUrls):
            signed = self.signed.to_dict()
        else:
            signed = self.signed

        source: dict[str, Any] | None | Unset
        if isinstance(self.source, Unset):
            source = UNSET
        elif isinstance(self.source, SourceView):
            source = self.source.to_dict()
        else:
            source = self.source

        storyboard_url: None | str | Unset
        if isinstance(self.storyboard_url, Unset):
            storyboard_url = UNSET
        else:
            storyboard_url = self.storyboard_url

        thumbnail_url: None | str | Unset
        if isinstance(self.thumbnail_url, Unset):
            thumbnail_url = UNSET
        else:
            thumbnail_url = self.thumbnail_url

        width: int | None | Unset
        if isinstance(self.width, Unset):
            width = UNSET
        else:
            width = self.width


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "audio_tracks": audio_tracks,
            "content_type": content_type,
            "created_at": created_at,
            "downloads": downloads,
            "filename": filename,
            "id": id,
            "kind": kind,
            "original_url": original_url,
            "owner_id": owner_id,
            "playable": playable,
            "progress": progress,
            "renditions": renditions,
            "sha256": sha256,
            "size": size,
            "status": status,
            "text_tracks": text_tracks,
            "title": title,
            "updated_at": updated_at,
            "variants": variants,
            "visibility": visibility,
            "warnings": warnings,
        })
        if chunks is not UNSET:
            field_dict["chunks"] = chunks
        if duration_seconds is not UNSET:
            field_dict["duration_seconds"] = duration_seconds
        if encode is not UNSET:
            field_dict["encode"] = encode
        if error is not UNSET:
            field_dict["error"] = error
        if height is not UNSET:
            field_dict["height"] = height
        if playback is not UNSET:
            field_dict["playback"] = playback
        if queue_position is not UNSET:
            field_dict["queue_position"] = queue_position
        if signed is not UNSET:
            field_dict["signed"] = signed
        if source is not UNSET:
            field_dict["source"] = source
        if storyboard_url is not UNSET:
            field_dict["storyboard_url"] = storyboard_url
        if thumbnail_url is not UNSET:
            field_dict["thumbnail_url"] = thumbnail_url
        if width is not UNSET:
            field_dict["width"] = width

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audio_track_view import AudioTrackView # noqa: PLC0415
        from ..models.chunk_counts import ChunkCounts # noqa: PLC0415
        from ..models.download_view import DownloadView # noqa: PLC0415
        from ..models.encode_report import EncodeReport # noqa: PLC0415
        from ..models.playback_view import PlaybackView # noqa: PLC0415
        from ..models.rendition_view import RenditionView # noqa: PLC0415
        from ..models.signed_urls import SignedUrls # noqa: PLC0415
        from ..models.source_view import SourceView # noqa: PLC0415
        from ..models.text_track_view import TextTrackView # noqa: PLC0415
        from ..models.variant_view import VariantView # noqa: PLC0415
        d = dict(src_dict)
        audio_tracks = []
        _audio_tracks = d.pop("audio_tracks")
        for audio_tracks_item_data in (_audio_tracks):
            audio_tracks_item = AudioTrackView.from_dict(audio_tracks_item_data)



            audio_tracks.append(audio_tracks_item)


        content_type = d.pop("content_type")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        downloads = []
        _downloads = d.pop("downloads")
        for downloads_item_data in (_downloads):
            downloads_item = DownloadView.from_dict(downloads_item_data)



            downloads.append(downloads_item)


        filename = d.pop("filename")

        id = d.pop("id")

        kind = MediaKind(d.pop("kind"))




        original_url = d.pop("original_url")

        owner_id = d.pop("owner_id")

        playable = d.pop("playable")

        progress = d.pop("progress")

        renditions = []
        _renditions = d.pop("renditions")
        for renditions_item_data in (_renditions):
            renditions_item = RenditionView.from_dict(renditions_item_data)



            renditions.append(renditions_item)


        sha256 = d.pop("sha256")

        size = d.pop("size")

        status = MediaStatus(d.pop("status"))




        text_tracks = []
        _text_tracks = d.pop("text_tracks")
        for text_tracks_item_data in (_text_tracks):
            text_tracks_item = TextTrackView.from_dict(text_tracks_item_data)



            text_tracks.append(text_tracks_item)


        title = d.pop("title")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        variants = []
        _variants = d.pop("variants")
        for variants_item_data in (_variants):
            variants_item = VariantView.from_dict(variants_item_data)



            variants.append(variants_item)


        visibility = Visibility(d.pop("visibility"))




        warnings = cast(list[str], d.pop("warnings"))


        def _parse_chunks(data: object) -> ChunkCounts | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                chunks_type_1 = ChunkCounts.from_dict(data)



                return chunks_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ChunkCounts | None | Unset, data)

        chunks = _parse_chunks(d.pop("chunks", UNSET))


        def _parse_duration_seconds(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        duration_seconds = _parse_duration_seconds(d.pop("duration_seconds", UNSET))


        def _parse_encode(data: object) -> EncodeReport | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                encode_type_1 = EncodeReport.from_dict(data)



                return encode_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EncodeReport | None | Unset, data)

        encode = _parse_encode(d.pop("encode", UNSET))


        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))


        def _parse_height(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        height = _parse_height(d.pop("height", UNSET))


        def _parse_playback(data: object) -> None | PlaybackView | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                playback_type_1 = PlaybackView.from_dict(data)



                return playback_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PlaybackView | Unset, data)

        playback = _parse_playback(d.pop("playback", UNSET))


        def _parse_queue_position(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        queue_position = _parse_queue_position(d.pop("queue_position", UNSET))


        def _parse_signed(data: object) -> None | SignedUrls | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                signed_type_1 = SignedUrls.from_dict(data)



                return signed_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SignedUrls | Unset, data)

        signed = _parse_signed(d.pop("signed", UNSET))


        def _parse_source(data: object) -> None | SourceView | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                source_type_1 = SourceView.from_dict(data)



                return source_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SourceView | Unset, data)

        source = _parse_source(d.pop("source", UNSET))


        def _parse_storyboard_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        storyboard_url = _parse_storyboard_url(d.pop("storyboard_url", UNSET))


        def _parse_thumbnail_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        thumbnail_url = _parse_thumbnail_url(d.pop("thumbnail_url", UNSET))


        def _parse_width(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        width = _parse_width(d.pop("width", UNSET))


        media_view = cls(
            audio_tracks=audio_tracks,
            content_type=content_type,
            created_at=created_at,
            downloads=downloads,
            filename=filename,
            id=id,
            kind=kind,
            original_url=original_url,
            owner_id=owner_id,
            playable=playable,
            progress=progress,
            renditions=renditions,
            sha256=sha256,
            size=size,
            status=status,
            text_tracks=text_tracks,
            title=title,
            updated_at=updated_at,
            variants=variants,
            visibility=visibility,
            warnings=warnings,
            chunks=chunks,
            duration_seconds=duration_seconds,
            encode=encode,
            error=error,
            height=height,
            playback=playback,
            queue_position=queue_position,
            signed=signed,
            source=source,
            storyboard_url=storyboard_url,
            thumbnail_url=thumbnail_url,
            width=width,
        )


        media_view.additional_properties = d
        return media_view

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
