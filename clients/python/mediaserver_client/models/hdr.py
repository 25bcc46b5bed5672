from enum import StrEnum

class Hdr(StrEnum):
    HLG = "hlg"
    PQ = "pq"

    def __str__(self) -> str:
        return str(self.value)
