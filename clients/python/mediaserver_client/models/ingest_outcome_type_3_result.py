from enum import StrEnum

class IngestOutcomeType3Result(StrEnum):
    REFUSED = "refused"

    def __str__(self) -> str:
        return str(self.value)
