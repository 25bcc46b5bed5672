from enum import StrEnum

class BeaconType1Event(StrEnum):
    HEARTBEAT = "heartbeat"

    def __str__(self) -> str:
        return str(self.value)
