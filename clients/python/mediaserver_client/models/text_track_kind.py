from enum import StrEnum

class TextTrackKind(StrEnum):
    CAPTIONS = "captions"
    SUBTITLES = "subtitles"

    def __str__(self) -> str:
        return str(self.value)
