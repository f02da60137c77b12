"""Errors the emulator answers with, in the shapes the real service uses (reference §2.8)."""

from __future__ import annotations

from dataclasses import dataclass, field

NOT_FOUND = "The persistent identifier does not exist."
NOT_REGISTERED = "The persistent identifier is not registered."
PERMISSION_DENIED = "Permission denied."
VALIDATION = "A validation error occurred."


@dataclass
class ApiError(Exception):
    status: int
    message: str
    errors: list[dict] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict:
        body: dict = {"status": self.status, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body

    @classmethod
    def validation(cls, errors: list[dict]) -> "ApiError":
        return cls(400, VALIDATION, errors)

    @classmethod
    def not_found(cls, message: str = NOT_FOUND) -> "ApiError":
        return cls(404, message)
