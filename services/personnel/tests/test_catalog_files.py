"""The catalog data files the service seeds from (R-PER-6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise

from qlcb_common.record_sections import SECTIONS
from qlcb_personnel.catalogs.service import catalog_names, data_files


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
