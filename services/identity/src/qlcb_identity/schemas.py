from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

from qlcb_common.authz import Section
from qlcb_common.tiers import Tier

USERNAME = r"^[A-Za-z0-9._@-]{1,255}$"
"""Usernames are ASCII: those identity issues are slugs of the holder's name or the unit code."""

Username = Annotated[str, Path(pattern=USERNAME, description="Tên đăng nhập")]


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
