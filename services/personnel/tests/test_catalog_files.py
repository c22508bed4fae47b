"""The catalog data files the service seeds from (R-PER-6)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from qlcb_common import personnel_rules as rules
from qlcb_common.errors import FieldViolation
from qlcb_common.record_sections import SECTIONS
from qlcb_personnel.catalogs.service import Parent, catalog_names, data_files, parent_of


def test_every_catalog_a_section_names_has_a_data_file() -> None:
    named = {f.catalog for s in SECTIONS for f in s.fields if f.catalog}
    assert named <= catalog_names()


def test_each_value_is_dated_once_with_a_legal_basis() -> None:
    for doc in data_files():
        assert doc["legal_basis"], doc["catalog"]
        keys = [(v["code"], v["valid_from"]) for v in doc["values"]]
        assert len(keys) == len(set(keys)), doc["catalog"]
        for value in doc["values"]:
            start = date.fromisoformat(value["valid_from"])
            assert value.get("valid_to") is None or date.fromisoformat(value["valid_to"]) >= start


def test_the_salary_grid_rises_by_step_and_matches_nd_204() -> None:
    ranks = {v["code"]: v for doc in data_files() if doc["catalog"] == "ranks" for v in doc["values"]}
    customs = ranks["08.051"]["attributes"]
    assert customs["salary_group"] == "A1"
    assert customs["coefficients"] == ["2.34", "2.67", "3.00", "3.33", "3.66", "3.99", "4.32", "4.65", "4.98"]
    assert ranks["01.005"]["attributes"]["coefficients"][-1] == "4.06", "group B: 1.86 + 11 × 0.20"
    for rank in ranks.values():
        steps = [Decimal(c) for c in rank["attributes"]["coefficients"]]
        assert all(lower < higher for lower, higher in pairwise(steps)), rank["code"]


def test_forms_abolished_in_2025_are_not_valid_after_june_2025() -> None:
    forms = {v["code"]: v for doc in data_files() if doc["catalog"] == "discipline_forms" for v in doc["values"]}
    assert forms["HA_BAC_LUONG"]["valid_to"] == "2025-06-30"
    assert forms["GIANG_CHUC"]["valid_to"] == "2025-06-30"
    assert "valid_to" not in forms["CANH_CAO"]


def _catalog(name: str) -> dict[str, Any]:
    """The catalog's data files as one: the communes come in two (before and from July 2025)."""
    docs = [doc for doc in data_files() if doc["catalog"] == name]
    assert docs, name
    return docs[0] | {"values": [v for doc in docs for v in doc["values"]]}


def _valid_on(name: str, day: str) -> dict[str, dict[str, Any]]:
    return {
        v["code"]: v
        for v in _catalog(name)["values"]
        if v["valid_from"] <= day and (v.get("valid_to") is None or v["valid_to"] >= day)
    }


def test_labels_groups_and_legal_bases_are_as_the_api_stores_them() -> None:
    """What a catalog event carries for a seeded value (when it is ended) passes the contract."""
    for doc in data_files():
        violations: list[FieldViolation] = []
        assert (
            rules.short_text(doc["legal_basis"], "legal_basis", rules.MAX_LEGAL_BASIS, violations)
            == (doc["legal_basis"])
        )
        for value in doc["values"]:
            assert rules.catalog_code(value["code"], violations) == value["code"]
            assert rules.short_text(value["label"], "label", rules.MAX_CATALOG_LABEL, violations) == value["label"]
            group = value.get("group")
            assert group is None or rules.short_text(group, "group", rules.MAX_CATALOG_GROUP, violations) == group
            if "groups" in doc:
                assert group in doc["groups"], (doc["catalog"], value["code"])
        assert violations == [], doc["catalog"]


def test_provinces_are_63_until_june_2025_and_34_from_july_each_old_one_mapped() -> None:
    before, after = _valid_on("provinces", "2025-06-30"), _valid_on("provinces", "2025-07-01")
    assert len(before) == 63
    assert len(after) == 34
    assert Counter(v["group"] for v in after.values()) == {"TINH": 28, "THANH_PHO": 6}
    assert Counter(v["group"] for v in before.values()) == {"TINH": 57, "THANH_PHO": 6}, "Huế a city from 2025"
    assert _valid_on("provinces", "2024-12-31")["46"]["label"] == "Tỉnh Thừa Thiên Huế"
    for old in _catalog("provinces")["values"]:
        if old["valid_from"] < "2025-07-01":
            assert old["attributes"]["merged_into"] in after, old
            assert old["code"] in after[old["attributes"]["merged_into"]]["attributes"]["merged_from"]
    assert before["36"]["attributes"]["merged_into"] == "37", "Nam Định into Ninh Bình"
    assert before["15"]["label"] == "Tỉnh Yên Bái"
    assert after["15"]["label"] == "Tỉnh Lào Cai", "the new unit keeps the code of the old one where its seat is"
    unverified = {code for code, v in before.items() if not v["attributes"]["merged_into_verified"]}
    assert unverified == {"70", "80"}, "Bình Phước → Đồng Nai, Long An → Tây Ninh (catalogs.md §7)"


def test_posts_carry_their_allowance_coefficient_or_say_it_is_unverified() -> None:
    posts = _valid_on("posts", "2024-01-01")
    assert {"TONG_CUC_TRUONG", "CUC_TRUONG", "CHI_CUC_TRUONG", "PHO_DOI_TRUONG"} <= posts.keys()
    for post in posts.values():
        coefficient = post["attributes"]["allowance_coefficient"]
        if coefficient is None:
            assert post["attributes"]["allowance_coefficient_verified"] is False
        else:
            assert Decimal(coefficient) > 0


def _coefficients(day: str, level: str) -> dict[str, str | None]:
    return {
        code: post["attributes"]["allowance_coefficient"]
        for code, post in _valid_on("posts", day).items()
        if post["attributes"]["level"] == level
    }


def test_the_general_departments_posts_carry_the_coefficients_of_nd_204s_table() -> None:
    """ND 204/2004's table for a Tổng cục thuộc Bộ (section I.3), which the Tổng cục Hải quan was."""
    assert _coefficients("2024-01-01", "TONG_CUC") == {"TONG_CUC_TRUONG": "1.25", "PHO_TONG_CUC_TRUONG": "1.05"}
    assert _coefficients("2024-01-01", "VU_CUC_TC") == {"VU_TRUONG": "0.90", "PHO_VU_TRUONG": "0.70"}
    assert _coefficients("2024-01-01", "PHONG_TC") == {"TRUONG_PHONG_TC": "0.50", "PHO_TRUONG_PHONG_TC": "0.40"}


def test_the_customs_departments_posts_follow_nd_07_2026_from_its_first_day() -> None:
    """The Cục Hải quan under the Ministry of Finance (2025) is a Cục thuộc Bộ: ND 204's table as
    ND 117/2016 left it, then from 1 January 2026 ND 07/2026's, at the second class's figures until
    the Cục is classed. What no text read gives stays empty and says so."""
    assert not _coefficients("2025-02-28", "CUC_BO")
    assert _coefficients("2025-06-30", "CUC_BO") == {"CUC_TRUONG_CHQ": "1.00", "PHO_CUC_TRUONG_CHQ": "0.80"}
    assert _coefficients("2025-06-30", "BAN_CUC_BO") == {"TRUONG_BAN_CHQ": "0.60", "PHO_TRUONG_BAN_CHQ": None}
    assert set(_coefficients("2025-06-30", "CHI_CUC_KV").values()) == {None}
    assert _coefficients("2026-06-30", "BAN_CUC_BO") == {"TRUONG_BAN_CHQ": "0.60", "PHO_TRUONG_BAN_CHQ": "0.40"}
    assert _coefficients("2026-06-30", "CHI_CUC_KV") == {
        "CHI_CUC_TRUONG_KV_HN_HCM": "0.70",
        "CHI_CUC_TRUONG_KV": "0.60",
        "PHO_CHI_CUC_TRUONG_KV_HN_HCM": "0.50",
        "PHO_CHI_CUC_TRUONG_KV": None,
    }
    for post in _catalog("posts")["values"]:
        verified = post["attributes"]["allowance_coefficient_verified"]
        assert verified is (post["attributes"]["allowance_coefficient"] is not None), post["code"]


def test_training_kinds_are_grouped_as_the_columns_of_bm01() -> None:
    kinds = _valid_on("training_kinds", "2024-01-01")
    assert {code: v["group"] for code, v in kinds.items() if v["group"]} == {
        "CM": "CHUYEN_MON",
        "LLCT": "CHINH_TRI",
        "QLNN": "QLNN",
        "TH": "TIN_HOC",
        "NN": "NGOAI_NGU",
    }


def test_a_field_within_another_names_the_field_holding_its_catalogs_parent() -> None:
    """A commune field sits next to the province field of the same entry it must belong to."""
    withins = [(s, f) for s in SECTIONS for f in s.fields if f.within]
    assert {f.name for _, f in withins} == {
        "birthplace_commune",
        "home_town_commune",
        "permanent_residence_commune",
        "current_residence_commune",
    }
    for section, spec in withins:
        (parent_field,) = [f for f in section.fields if f.name == spec.within]
        assert spec.catalog is not None
        link = parent_of(spec.catalog)
        assert link is not None, spec.name
        assert parent_field.catalog == link.catalog, spec.name
        assert not spec.required, "the text address stays the record's; a code is optional"


def test_each_value_of_a_catalog_with_a_parent_belongs_to_a_parent_value_valid_on_its_first_day() -> None:
    assert parent_of("communes") == Parent(catalog="provinces", attribute="province")
    assert parent_of("provinces") is None
    for doc in data_files():
        link = parent_of(doc["catalog"])
        if link is None:
            continue
        parents = {day: _valid_on(link.catalog, day) for day in {v["valid_from"] for v in doc["values"]}}
        for value in doc["values"]:
            assert value["attributes"][link.attribute] in parents[value["valid_from"]], (doc["catalog"], value["code"])


def test_communes_are_the_three_tier_ones_until_june_2025_and_the_new_ones_from_july() -> None:
    """The 10,051 xã, phường and thị trấn of January 2025, with their districts, stand for entries
    from 1 August 2008 (the 63 provinces' map) to 30 June 2025; an earlier entry takes no code."""
    assert _valid_on("communes", "2008-07-31") == {}
    before = _valid_on("communes", "2025-06-30")
    assert before == _valid_on("communes", "2008-08-01")
    assert len(before) == 10_051
    assert before["00004"]["label"] == "Phường Trúc Bạch"
    assert before["00004"]["attributes"] == {"province": "01", "district": "001", "district_name": "Quận Ba Đình"}
    assert Counter(v["group"] for v in before.values()) == {"XA": 7717, "PHUONG": 1716, "THI_TRAN": 618}
    provinces = _valid_on("provinces", "2025-01-04")
    assert {v["attributes"]["province"] for v in before.values()} == provinces.keys()
    communes = _valid_on("communes", "2025-07-01")
    assert len(communes) == 3321
    assert communes["00004"]["label"] == "Phường Ba Đình"
    assert communes["00004"]["attributes"]["province"] == "01"
    assert Counter(v["attributes"]["province"] for v in communes.values())["37"] == 129, "Ninh Bình"
