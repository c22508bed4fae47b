"""The criteria a staff list is filtered by on its page (R-PER-5): the search's own criteria, as an
HR officer picks them, each typed and checked as the REST search checks it (`read_criteria`), the
catalog's codes offered by name. The list, its pages, its order and its export keep them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from qlcb.personnel.v1 import record_pb2
from qlcb_gateway.backends import Backends
from qlcb_gateway.routes.search import BY_NAME, read_criteria
from qlcb_gateway.web.kept import Kept
from qlcb_gateway.web.person_labels import SEX_LABELS, STATUS_LABELS


@dataclass(frozen=True)
class Filter:
    name: str  # the search's criterion
    label: str
    kind: str  # choice, number, date or yesno
    catalog: str = ""  # the choices are this catalog's values
    of_kind: str = ""  # of this kind only (a training level's)
    choices: tuple[tuple[str, str], ...] = field(default=())
    # The catalog's values of this day are offered too where today's have no such code, their end
    # named: codes a record may hold from before a reorganisation.
    earlier: str = ""


RANK_GROUPS = (
    ("CVCC", "Chuyên viên cao cấp và tương đương"),
    ("CVC", "Chuyên viên chính và tương đương"),
    ("CV", "Chuyên viên và tương đương"),
    ("CS", "Cán sự và tương đương"),
    ("NV", "Nhân viên"),
)
BEFORE_PROVINCES_MERGED = "2025-06-30"
"""The last day of the 63 provinces: 34 from 01/7/2025 (the provinces catalog's legal basis)."""
FILTERS = (
    Filter("status", "Tình trạng", "choice", choices=tuple(STATUS_LABELS.items())),
    Filter("sex", "Giới tính", "choice", choices=tuple(SEX_LABELS.items())),
    Filter("rank_group", "Nhóm ngạch", "choice", choices=RANK_GROUPS),
    Filter("rank", "Ngạch", "choice", catalog="ranks"),
    Filter("salary_step", "Bậc lương", "number"),
    Filter("post", "Chức vụ", "choice", catalog="posts"),
    Filter("qualification", "Trình độ chuyên môn", "choice", catalog="training_levels", of_kind="CM"),
    Filter("political_theory", "Lý luận chính trị", "choice", catalog="training_levels", of_kind="LLCT"),
    Filter("state_management", "Quản lý nhà nước", "choice", catalog="training_levels", of_kind="QLNN"),
    Filter("foreign_language", "Ngoại ngữ", "choice", catalog="training_levels", of_kind="NN"),
    Filter("it_level", "Tin học", "choice", catalog="training_levels", of_kind="TH"),
    Filter("party_member", "Đảng viên", "yesno"),
    Filter("ethnicity", "Dân tộc", "choice", catalog="ethnicities"),
    Filter("religion", "Tôn giáo", "choice", catalog="religions"),
    Filter(
        "home_province", "Quê quán (tỉnh, thành phố)", "choice", catalog="provinces", earlier=BEFORE_PROVINCES_MERGED
    ),
    Filter("contract_type", "Hợp đồng lao động", "choice", catalog="contract_types"),
    Filter("reward", "Đã được khen thưởng", "choice", catalog="reward_forms"),
    Filter("discipline", "Đang chịu kỷ luật", "choice", catalog="discipline_forms"),
    Filter("evaluation_year", "Năm đánh giá", "number"),
    Filter("evaluation_level", "Mức xếp loại năm đó", "choice", catalog="evaluation_levels"),
    Filter("age_min", "Tuổi từ", "number"),
    Filter("age_max", "Tuổi đến", "number"),
    Filter("recruited_from", "Tuyển dụng từ ngày", "date"),
    Filter("recruited_to", "Tuyển dụng đến ngày", "date"),
    Filter("as_of", "Tại ngày", "date"),
)
BY_FILTER = {f.name: f for f in FILTERS}


@dataclass(frozen=True)
class Chosen:
    """The filters a page's query string asks for: as written (for the form and the links), typed
    for the search, and the faults of those that are not, each with its criterion."""

    written: dict[str, str]
    fields: dict[str, Any]
    faults: list[tuple[str, str]]

    def described(self) -> list[str]:
        return [f"{BY_FILTER[name].label}: {reason}" for name, reason in self.faults]


def without_blanks(params: QueryParams) -> str | None:
    """The query string without the filters left blank, if any was; else None."""
    kept = [(name, value) for name, value in params.multi_items() if name not in BY_FILTER or value.strip()]
    return urlencode(kept) if len(kept) < len(params.multi_items()) else None


def chosen(params: Mapping[str, str]) -> Chosen:
    written = {f.name: params[f.name].strip() for f in FILTERS if params.get(f.name, "").strip()}
    fields, faults = read_criteria(QueryParams(written), {name: BY_NAME[name] for name in BY_FILTER})
    return Chosen(written, fields, faults)


async def choices(
    kept: Kept[list[tuple[str, str]]], backends: Backends, token: str
) -> dict[str, list[tuple[str, str]]]:
    """Each filter's choices: its own, or its catalog's values valid today, by label, then those of
    its earlier day that today's lack (kept a few minutes, as the pages keep the catalogs' labels:
    every tier reads the catalogs)."""

    async def fetch(names: list[str]) -> dict[str, list[tuple[str, str]]]:
        asked = sorted({(BY_FILTER[name].catalog, day) for name in names for day in ("", BY_FILTER[name].earlier)})
        answers = await asyncio.gather(
            *(
                backends.record.ListCatalogValues(
                    record_pb2.ListCatalogValuesRequest(catalog=catalog, as_of=day), **backends.call_options(token)
                )
                for catalog, day in asked
            )
        )
        values = dict(zip(asked, (answer.values for answer in answers), strict=True))
        return {name: _offered(BY_FILTER[name], values) for name in names}

    listed = await kept.of([f.name for f in FILTERS if f.catalog], fetch)
    return {f.name: listed.get(f.name, []) if f.catalog else list(f.choices) for f in FILTERS}


def _offered(
    chosen_by: Filter, values: Mapping[tuple[str, str], Sequence[record_pb2.CatalogValue]]
) -> list[tuple[str, str]]:
    def fits(value: record_pb2.CatalogValue) -> bool:
        return not chosen_by.of_kind or json.loads(value.attributes_json or "{}").get("kind") == chosen_by.of_kind

    today = [(v.code, f"{v.label} ({v.code})") for v in values[(chosen_by.catalog, "")] if fits(v)]
    if not chosen_by.earlier:
        return today
    held = {code for code, _ in today}
    ended = date.fromisoformat(chosen_by.earlier)
    return today + [
        (v.code, f"{v.label} ({v.code}, đến {ended:%d/%m/%Y})")
        for v in values[(chosen_by.catalog, chosen_by.earlier)]
        if v.code not in held and fits(v)
    ]
