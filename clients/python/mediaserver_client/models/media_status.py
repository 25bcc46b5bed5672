from enum import StrEnum

class MediaStatus(StrEnum):
    FAILED = "failed"
    PROCESSING = "processing"
    QUEUED = "queued"
    READY = "ready"
    UPLOADED = "uploaded"

    def __str__(self) -> str:
        return str(self.value)
