from __future__ import annotations

from pydantic import AnyHttpUrl, BaseModel, Field

from qlcb_common.identifiers import UNIT_PATH_PATTERN, anchored
from qlcb_common.text import SingleLineText
from qlcb_common.tiers import Tier


class ClaimMapping(BaseModel):
    """Users whose token has `claim` equal to (or, for a list, containing) `value` land with
    `tier` in `unit_path`. A user matching no mapping gets no tier, hence no access."""

    claim: SingleLineText = Field(min_length=1, max_length=255, description="Claim of the agency's ID token")
    value: SingleLineText = Field(min_length=1, max_length=255)
    tier: Tier
    unit_path: str = Field(pattern=anchored(UNIT_PATH_PATTERN), description="Đơn vị, e.g. /TCHQ/HQHN")


class AgencyCreate(BaseModel):
    """Another agency's OpenID provider, brokered into the realm (R-ACC-10)."""

    alias: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$", description="Short name, used in login URLs")
    display_name: SingleLineText = Field(min_length=1, max_length=255, description="Tên cơ quan")
    issuer: AnyHttpUrl = Field(description="The agency's issuer; its discovery document is read from it")
    client_id: SingleLineText = Field(min_length=1, max_length=255)
    client_secret: str = Field(min_length=1, max_length=255)
    mappings: list[ClaimMapping] = Field(min_length=1)


class AgencyPublic(BaseModel):
    alias: str
    display_name: str
    issuer: str
    mappings: list[ClaimMapping]
