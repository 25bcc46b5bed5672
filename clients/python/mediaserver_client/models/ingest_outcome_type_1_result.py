from enum import StrEnum

class IngestOutcomeType1Result(StrEnum):
    DUPLICATE = "duplicate"

    def __str__(self) -> str:
        return str(self.value)
