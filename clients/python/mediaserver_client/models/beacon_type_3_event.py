from enum import StrEnum

class BeaconType3Event(StrEnum):
    RENDITION = "rendition"

    def __str__(self) -> str:
        return str(self.value)
