from enum import StrEnum

class WebhookEventKind(StrEnum):
    MEDIA_FAILED = "media.failed"
    MEDIA_READY = "media.ready"

    def __str__(self) -> str:
        return str(self.value)
