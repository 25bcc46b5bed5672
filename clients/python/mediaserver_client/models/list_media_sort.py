from enum import StrEnum

class ListMediaSort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    SIZE = "size"
    TITLE = "title"

    def __str__(self) -> str:
        return str(self.value)
