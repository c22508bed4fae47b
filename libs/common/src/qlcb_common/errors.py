"""Errors that service code raises; the gRPC and HTTP edges turn them into statuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class ServiceError(Exception):
    """Base of errors that carry a meaning for the caller."""

    @property
    def code(self) -> str:
        """The name the caller sees."""
        return type(self).__name__


class InvalidArgument(ServiceError):
    """One or more fields are invalid; each violation names the field and the reason."""

    def __init__(self, violations: Sequence[FieldViolation]) -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in self.violations))

    @classmethod
    def single(cls, field: str, description: str) -> InvalidArgument:
        return cls([FieldViolation(field, description)])


class NotFound(ServiceError):
    pass


class RefusedAsNotFound(NotFound):
    """A refusal answered exactly as an unknown name, so the caller learns nothing of what exists
    outside its reach; the service still records and counts it as a refusal."""

    @property
    def code(self) -> str:
        return NotFound.__name__


class AlreadyExists(ServiceError):
    pass


class PermissionDenied(ServiceError):
    pass


class FailedPrecondition(ServiceError):
    pass


class StaleVersion(ServiceError):
    """The caller changed a version that another change has superseded since it read it: gRPC
    ABORTED, HTTP 412 (its If-Match no longer matches); read again and retry."""


class DataLoss(ServiceError):
    """Stored data is damaged (e.g. a backup file no longer matches its checksum)."""


class Gone(ServiceError):
    """The thing existed but can no longer be had (a one-time secret already taken or expired)."""


class Unavailable(ServiceError):
    """Something the service depends on (e.g. an object store) did not answer, even after retries:
    gRPC UNAVAILABLE, HTTP 503; the caller may try again later."""
