from enum import StrEnum

class BeaconType0Event(StrEnum):
    VIEW_START = "view_start"

    def __str__(self) -> str:
        return str(self.value)
