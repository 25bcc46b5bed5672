from enum import StrEnum

class BeaconType4Event(StrEnum):
    ERROR = "error"

    def __str__(self) -> str:
        return str(self.value)
