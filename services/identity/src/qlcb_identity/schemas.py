from __future__ import annotations

from pydantic import BaseModel, Field

from qlcb_common.authz import Section
from qlcb_common.tiers import Tier


class CallerPublic(BaseModel):
    """Who the caller is, as their access token says."""

    subject: str = Field(description="Keycloak user id (sub)")
    username: str
    tiers: list[Tier] = Field(description="Administrative tiers held (realm roles)")
    unit_path: str | None = Field(description="Unit path from the root, e.g. /TCHQ/HQHN/CCBN")
    unit_code: str | None = Field(description="The caller's own unit (last segment of the path)")
    sections: list[Section] = Field(description="Phần hồ sơ được giao (local officers: granted by their admin)")


class DriftPublic(BaseModel):
    """One difference between the live Keycloak realm and the repository's definition."""

    kind: str = Field(description="realm, role, client or mapper")
    name: str
    field: str
    description: str
