""" Contains all the data models used in inputs/outputs """

from .admin_user_view import AdminUserView
from .analytics_report import AnalyticsReport
from .analytics_report_renditions import AnalyticsReportRenditions
from .api_key_list import ApiKeyList
from .api_key_view import ApiKeyView
from .attempt_view import AttemptView
from .audio_track_view import AudioTrackView
from .beacon_type_0 import BeaconType0
from .beacon_type_0_event import BeaconType0Event
from .beacon_type_1 import BeaconType1
from .beacon_type_1_event import BeaconType1Event
from .beacon_type_2 import BeaconType2
from .beacon_type_2_event import BeaconType2Event
from .beacon_type_3 import BeaconType3
from .beacon_type_3_event import BeaconType3Event
from .beacon_type_4 import BeaconType4
from .beacon_type_4_event import BeaconType4Event
from .beacon_type_5 import BeaconType5
from .beacon_type_5_event import BeaconType5Event
from .chunk_counts import ChunkCounts
from .clip_request import ClipRequest
from .create_tus_resumable import CreateTusResumable
from .created_api_key import CreatedApiKey
from .created_invitation import CreatedInvitation
from .credentials import Credentials
from .day_report import DayReport
from .delete_upload_tus_resumable import DeleteUploadTusResumable
from .delivery_detail import DeliveryDetail
from .delivery_page import DeliveryPage
from .delivery_status import DeliveryStatus
from .delivery_view import DeliveryView
from .direct_upload import DirectUpload
from .direct_upload_headers import DirectUploadHeaders
from .direct_upload_request import DirectUploadRequest
from .download_view import DownloadView
from .encode_report import EncodeReport
from .encode_runner import EncodeRunner
from .error_body import ErrorBody
from .error_detail import ErrorDetail
from .event_response import EventResponse
from .hdr import Hdr
from .head_upload_tus_resumable import HeadUploadTusResumable
from .health import Health
from .ingest_outcome_type_0 import IngestOutcomeType0
from .ingest_outcome_type_0_result import IngestOutcomeType0Result
from .ingest_outcome_type_1 import IngestOutcomeType1
from .ingest_outcome_type_1_result import IngestOutcomeType1Result
from .ingest_outcome_type_2 import IngestOutcomeType2
from .ingest_outcome_type_2_result import IngestOutcomeType2Result
from .ingest_outcome_type_3 import IngestOutcomeType3
from .ingest_outcome_type_3_result import IngestOutcomeType3Result
from .job_list import JobList
from .job_status import JobStatus
from .job_view import JobView
from .library_page import LibraryPage
from .list_media_sort import ListMediaSort
from .me_view import MeView
from .media_kind import MediaKind
from .media_page import MediaPage
from .media_status import MediaStatus
from .media_update import MediaUpdate
from .media_view import MediaView
from .new_api_key import NewApiKey
from .new_invitation_request import NewInvitationRequest
from .new_user_request import NewUserRequest
from .o_embed import OEmbed
from .object_storage_event_body import ObjectStorageEventBody
from .password_change import PasswordChange
from .patch_upload_tus_resumable import PatchUploadTusResumable
from .playback_view import PlaybackView
from .quality import Quality
from .quality_sampling import QualitySampling
from .readiness import Readiness
from .refresh_request import RefreshRequest
from .register_request import RegisterRequest
from .rendition_encode import RenditionEncode
from .rendition_view import RenditionView
from .role import Role
from .scope import Scope
from .shared_item import SharedItem
from .shared_rendition import SharedRendition
from .shared_variant import SharedVariant
from .signed_urls import SignedUrls
from .source_view import SourceView
from .startup import Startup
from .storage_view import StorageView
from .text_track_kind import TextTrackKind
from .text_track_list import TextTrackList
from .text_track_source import TextTrackSource
from .text_track_view import TextTrackView
from .token_pair import TokenPair
from .token_request import TokenRequest
from .upload_form import UploadForm
from .user_page import UserPage
from .user_update import UserUpdate
from .user_view import UserView
from .variant_view import VariantView
from .visibility import Visibility
from .webhook_event_kind import WebhookEventKind

__all__ = (
    "AdminUserView",
    "AnalyticsReport",
    "AnalyticsReportRenditions",
    "ApiKeyList",
    "ApiKeyView",
    "AttemptView",
    "AudioTrackView",
    "BeaconType0",
    "BeaconType0Event",
    "BeaconType1",
    "BeaconType1Event",
    "BeaconType2",
    "BeaconType2Event",
    "BeaconType3",
    "BeaconType3Event",
    "BeaconType4",
    "BeaconType4Event",
    "BeaconType5",
    "BeaconType5Event",
    "ChunkCounts",
    "ClipRequest",
    "CreatedApiKey",
    "CreatedInvitation",
    "CreateTusResumable",
    "Credentials",
    "DayReport",
    "DeleteUploadTusResumable",
    "DeliveryDetail",
    "DeliveryPage",
    "DeliveryStatus",
    "DeliveryView",
    "DirectUpload",
    "DirectUploadHeaders",
    "DirectUploadRequest",
    "DownloadView",
    "EncodeReport",
    "EncodeRunner",
    "ErrorBody",
    "ErrorDetail",
    "EventResponse",
    "Hdr",
    "HeadUploadTusResumable",
    "Health",
    "IngestOutcomeType0",
    "IngestOutcomeType0Result",
    "IngestOutcomeType1",
    "IngestOutcomeType1Result",
    "IngestOutcomeType2",
    "IngestOutcomeType2Result",
    "IngestOutcomeType3",
    "IngestOutcomeType3Result",
    "JobList",
    "JobStatus",
    "JobView",
    "LibraryPage",
    "ListMediaSort",
    "MediaKind",
    "MediaPage",
    "MediaStatus",
    "MediaUpdate",
    "MediaView",
    "MeView",
    "NewApiKey",
    "NewInvitationRequest",
    "NewUserRequest",
    "ObjectStorageEventBody",
    "OEmbed",
    "PasswordChange",
    "PatchUploadTusResumable",
    "PlaybackView",
    "Quality",
    "QualitySampling",
    "Readiness",
    "RefreshRequest",
    "RegisterRequest",
    "RenditionEncode",
    "RenditionView",
    "Role",
    "Scope",
    "SharedItem",
    "SharedRendition",
    "SharedVariant",
    "SignedUrls",
    "SourceView",
    "Startup",
    "StorageView",
    "TextTrackKind",
    "TextTrackList",
    "TextTrackSource",
    "TextTrackView",
    "TokenPair",
    "TokenRequest",
    "UploadForm",
    "UserPage",
    "UserUpdate",
    "UserView",
    "VariantView",
    "Visibility",
    "WebhookEventKind",
)
