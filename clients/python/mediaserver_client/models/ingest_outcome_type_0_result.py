from enum import StrEnum

class IngestOutcomeType0Result(StrEnum):
    CREATED = "created"

    def __str__(self) -> str:
        return str(self.value)
