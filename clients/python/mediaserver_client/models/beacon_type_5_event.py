from enum import StrEnum

class BeaconType5Event(StrEnum):
    END = "end"

    def __str__(self) -> str:
        return str(self.value)
