from enum import StrEnum

class IngestOutcomeType2Result(StrEnum):
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return str(self.value)
