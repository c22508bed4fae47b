from __future__ import annotations

from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, Field, WithJsonSchema, field_validator

from qlcb_common.identifiers import UNIT_PATH_PATTERN, anchored
from qlcb_common.text import SingleLineText, VerbatimLine
from qlcb_common.tiers import Tier

UNMAPPABLE_TIERS = frozenset({Tier.SYSTEM_ADMIN, Tier.SECTOR_HR, Tier.SECTOR_VIEWER})
"""Tiers no partner agency's claim may give: the system admin's and the sector-wide ones. Another
agency's users work inside a unit; a sector tier would let that agency's own directory decide who
reads or writes every record of the sector."""


def refusal(tier: str) -> str:
    """Why a mapping to `tier` is refused (for the API's 422 and identity's log)."""
    return (
        f"Không được ánh xạ người dùng của cơ quan khác vào cấp {tier}: "
        "cấp quản trị hệ thống và các cấp toàn ngành chỉ dành cho tài khoản của ngành"
    )


class ClaimMapping(BaseModel):
    """Users whose token has `claim` equal to (or, for a list, containing) `value` land with
    `tier` in `unit_path`. A user matching no mapping gets no tier, hence no access."""

    claim: VerbatimLine = Field(min_length=1, max_length=255, description="Claim of the agency's ID token")
    value: VerbatimLine = Field(min_length=1, max_length=255)
    tier: Annotated[
        Tier,
        WithJsonSchema(
            {
                "type": "string",
                "enum": [t.value for t in Tier if t not in UNMAPPABLE_TIERS],
                "description": "Cấp: a unit's tier, never the system-admin or a sector tier",
            }
        ),
    ]
    unit_path: str = Field(pattern=anchored(UNIT_PATH_PATTERN), max_length=1024, description="Đơn vị, e.g. /TCHQ/HQHN")

    @field_validator("tier")
    @classmethod
    def _unit_tier(cls, tier: Tier) -> Tier:
        if tier in UNMAPPABLE_TIERS:
            raise ValueError(refusal(tier.value))
        return tier


class AgencyCreate(BaseModel):
    """Another agency's OpenID provider, brokered into the realm (R-ACC-10)."""

    alias: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$", description="Short name, used in login URLs")
    display_name: SingleLineText = Field(min_length=1, max_length=255, description="Tên cơ quan")
    issuer: AnyHttpUrl = Field(description="The agency's issuer; its discovery document is read from it")
    client_id: VerbatimLine = Field(min_length=1, max_length=255)
    client_secret: str = Field(min_length=1, max_length=255)
    mappings: list[ClaimMapping] = Field(min_length=1)


class AgencyPublic(BaseModel):
    alias: str
    display_name: str
    issuer: str
    mappings: list[ClaimMapping]
