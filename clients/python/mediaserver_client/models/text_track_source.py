from enum import StrEnum

class TextTrackSource(StrEnum):
    EMBEDDED = "embedded"
    UPLOAD = "upload"

    def __str__(self) -> str:
        return str(self.value)
