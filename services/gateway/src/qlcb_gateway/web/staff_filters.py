"""The criteria a staff list is filtered by on its page (R-PER-5): the search's own criteria, as an
HR officer picks them, each typed and checked as the REST search checks it (`read_criteria`), the
catalog's codes offered by name. The list, its pages, its order and its export keep them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
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


RANK_GROUPS = (
    ("CVCC", "Chuyên viên cao cấp và tương đương"),
    ("CVC", "Chuyên viên chính và tương đương"),
    ("CV", "Chuyên viên và tương đương"),
    ("CS", "Cán sự và tương đương"),
    ("NV", "Nhân viên"),
)
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
    Filter("home_province", "Quê quán (tỉnh, thành phố)", "choice", catalog="provinces"),
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
    """Each filter's choices: its own, or its catalog's values valid today, by label (kept a few
    minutes, as the pages keep the catalogs' labels: every tier reads the catalogs)."""

    async def fetch(names: list[str]) -> dict[str, list[tuple[str, str]]]:
        catalogs = sorted({BY_FILTER[name].catalog for name in names})
        answers = await asyncio.gather(
            *(
                backends.record.ListCatalogValues(
                    record_pb2.ListCatalogValuesRequest(catalog=catalog), **backends.call_options(token)
                )
                for catalog in catalogs
            )
        )
        values = dict(zip(catalogs, (answer.values for answer in answers), strict=True))
        return {
            name: [
                (v.code, f"{v.label} ({v.code})")
                for v in values[BY_FILTER[name].catalog]
                if not BY_FILTER[name].of_kind
                or json.loads(v.attributes_json or "{}").get("kind") == BY_FILTER[name].of_kind
            ]
            for name in names
        }

    listed = await kept.of([f.name for f in FILTERS if f.catalog], fetch)
    return {f.name: listed.get(f.name, []) if f.catalog else list(f.choices) for f in FILTERS}
