from enum import StrEnum

class BeaconType2Event(StrEnum):
    REBUFFER = "rebuffer"

    def __str__(self) -> str:
        return str(self.value)
