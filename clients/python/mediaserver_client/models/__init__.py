""" Contains all the data models used in inputs/outputs """

from .admin_user_view import AdminUserView
from .api_key_list import ApiKeyList
from .api_key_view import ApiKeyView
from .attempt_view import AttemptView
from .audio_track_view import AudioTrackView
from .create_tus_resumable import CreateTusResumable
from .created_api_key import CreatedApiKey
from .created_invitation import CreatedInvitation
from .credentials import Credentials
from .delete_upload_tus_resumable import DeleteUploadTusResumable
from .delivery_detail import DeliveryDetail
from .delivery_page import DeliveryPage
from .delivery_status import DeliveryStatus
from .delivery_view import DeliveryView
from .direct_upload import DirectUpload
from .direct_upload_headers import DirectUploadHeaders
from .direct_upload_request import DirectUploadRequest
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
from .readiness import Readiness
from .refresh_request import RefreshRequest
from .register_request import RegisterRequest
from .rendition_view import RenditionView
from .role import Role
from .scope import Scope
from .signed_urls import SignedUrls
from .source_view import SourceView
from .storage_view import StorageView
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
    "ApiKeyList",
    "ApiKeyView",
    "AttemptView",
    "AudioTrackView",
    "CreatedApiKey",
    "CreatedInvitation",
    "CreateTusResumable",
    "Credentials",
    "DeleteUploadTusResumable",
    "DeliveryDetail",
    "DeliveryPage",
    "DeliveryStatus",
    "DeliveryView",
    "DirectUpload",
    "DirectUploadHeaders",
    "DirectUploadRequest",
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
    "Readiness",
    "RefreshRequest",
    "RegisterRequest",
    "RenditionView",
    "Role",
    "Scope",
    "SignedUrls",
    "SourceView",
    "StorageView",
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
