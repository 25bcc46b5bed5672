from enum import StrEnum

class Scope(StrEnum):
    ADMIN = "admin"
    READ = "read"
    UPLOAD = "upload"
    WRITE = "write"

    def __str__(self) -> str:
        return str(self.value)
