"""Catalog data files generated from a pinned source, so that their provenance is checked.

`python -m qlcb_devstack.catalog_sources communes` writes personnel's
`catalogs/data/communes.json`, the 3,321 communes, wards and special zones (xã, phường, đặc
khu) in force since 1 July 2025, from the Python package vietnam-provinces installed by the
dependency group `catalog-sources` (the data only, read through the package's API; none of its
code is copied). `--check` writes nothing and exits 1 when the committed file differs from what
the package generates; the test of this module does the same.

The package's 34 provinces must be the 34 of `provinces.json` from 1 July 2025, code for code,
name for name and kind for kind: any difference stops the generation, naming every one.
Communes before 1 July 2025 (three tiers, with districts) are not in the package's current
version and are not generated.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from qlcb_common.text import clean
from qlcb_devstack.state import repo_root

SOURCE_PACKAGE = "vietnam-provinces"
SOURCE_VERSION = "2025.10.1"
"""The version pinned in the root pyproject.toml's `catalog-sources` group; another one installed
stops the generation, since the committed file would no longer say where its data came from."""
SOURCE_LICENSE = "GPL-3.0-or-later"
"""As the package's repository (github.com/sunshine-tech/VietnamProvinces) declares it in the
pyproject.toml of its tag v2025.10.1; the wheel's metadata names no licence."""
SOURCE_REPOSITORY = "https://github.com/sunshine-tech/VietnamProvinces"

VALID_FROM = "2025-07-01"
COMMAND = "python -m qlcb_devstack.catalog_sources communes"

COMMUNE_GROUPS = {"xã": "XA", "phường": "PHUONG", "đặc khu": "DAC_KHU"}
"""The package's division type of a commune → the catalog's group (the kind of unit)."""
PROVINCE_GROUPS = {"tỉnh": "TINH", "thành phố trung ương": "THANH_PHO"}
"""The package's division type of a province → the group of `provinces.json`."""

LEGAL_BASIS = (
    "Quyết định 19/2025/QĐ-TTg của Thủ tướng Chính phủ, Bảng danh mục và mã số các đơn vị hành chính Việt Nam, "
    "từ 01/7/2025 (chưa đối chiếu văn bản gốc); các nghị quyết năm 2025 của Ủy ban Thường vụ Quốc hội về sắp xếp "
    "đơn vị hành chính cấp xã của từng tỉnh, thành phố, có hiệu lực từ 01/7/2025."
)
"""Short: every value of the catalog carries it, and the listing of the 3,321 values with it."""
NOTE = (
    "Mã 5 chữ số của đơn vị hành chính cấp xã (xã, phường, đặc khu) từ 01/7/2025, khi chính quyền địa phương "
    "còn hai cấp, không còn cấp huyện; số hiệu nghị quyết sắp xếp của từng tỉnh chưa ghi. Thuộc tính province: "
    "mã tỉnh, thành phố (danh mục provinces từ 01/7/2025). Nhóm XA, PHUONG, DAC_KHU: loại đơn vị. "
    "Sinh bằng `{command}` từ gói Python {package} {version} (dữ liệu lấy ngày {data_version} từ danh mục "
    "hành chính của cơ quan thống kê), không sửa tay. Chưa có: các xã, phường, thị trấn và quận, huyện trước "
    "01/7/2025 (khoảng 10.000 xã, ba cấp), nên mục hồ sơ có ngày trước 01/7/2025 không nhận mã xã."
)


class SourceMismatch(RuntimeError):
    """The installed source disagrees with the repository: nothing is written."""


@dataclass(frozen=True)
class SourceProvince:
    code: int
    name: str
    division_type: str


@dataclass(frozen=True)
class SourceCommune:
    code: int
    name: str
    division_type: str
    province: int


@dataclass(frozen=True)
class Source:
    version: str
    data_version: str
    provinces: tuple[SourceProvince, ...]
    communes: tuple[SourceCommune, ...]


def communes_path() -> Path:
    return repo_root() / "services/personnel/src/qlcb_personnel/catalogs/data/communes.json"


def provinces_path() -> Path:
    return communes_path().with_name("provinces.json")


def read_source() -> Source:
    """The provinces and communes of the installed package, read through its API."""
    installed = metadata.version(SOURCE_PACKAGE)
    if installed != SOURCE_VERSION:
        raise SourceMismatch(
            f"{SOURCE_PACKAGE} {installed} is installed, {SOURCE_VERSION} is pinned: "
            "run scripts/bootstrap.sh (or change the pin, the licence check and the data file together)"
        )
    fields = metadata.metadata(SOURCE_PACKAGE).json
    declared = fields.get("license_expression") or fields.get("license")
    if declared not in (None, SOURCE_LICENSE):
        raise SourceMismatch(f"{SOURCE_PACKAGE} {installed} declares the licence {declared!r}, not {SOURCE_LICENSE}")
    import vietnam_provinces

    return Source(
        version=installed,
        data_version=str(vietnam_provinces.__data_version__),
        provinces=tuple(
            SourceProvince(int(p.code), p.name, p.division_type.value) for p in vietnam_provinces.Province.iter_all()
        ),
        communes=tuple(
            SourceCommune(int(w.code), w.name, w.division_type.value, int(w.province_code))
            for w in vietnam_provinces.Ward.iter_all()
        ),
    )


def provinces_on(provinces_doc: Mapping[str, Any], day: str) -> dict[str, Mapping[str, Any]]:
    """The values of `provinces.json` valid on `day` (YYYY-MM-DD), by code."""
    return {
        v["code"]: v
        for v in provinces_doc["values"]
        if v["valid_from"] <= day and (v.get("valid_to") is None or v["valid_to"] >= day)
    }


def province_code(code: int) -> str:
    if not 1 <= code <= 99:
        raise SourceMismatch(f"province code {code} is not a 2-digit code")
    return f"{code:02d}"


def commune_code(code: int) -> str:
    """The official 5-digit code, zero-padded: 4 → "00004"."""
    if not 1 <= code <= 99_999:
        raise SourceMismatch(f"commune code {code} is not a 5-digit code")
    return f"{code:05d}"


def check_provinces(source: Iterable[SourceProvince], ours: Mapping[str, Mapping[str, Any]]) -> None:
    """The package's provinces are ours (`provinces.json` on 1 July 2025): the same codes, each
    with the same name (ours says "Tỉnh" before a province's name) and kind. Every difference is
    named at once."""
    differences: list[str] = []
    theirs: dict[str, SourceProvince] = {}
    for province in source:
        code = province_code(province.code)
        if code in theirs:
            differences.append(f"province {code} twice in {SOURCE_PACKAGE}")
        theirs[code] = province
    for code in sorted(theirs.keys() - ours.keys()):
        differences.append(f"province {code} ({theirs[code].name}) is in {SOURCE_PACKAGE}, not in provinces.json")
    for code in sorted(ours.keys() - theirs.keys()):
        differences.append(f"province {code} ({ours[code]['label']}) is in provinces.json, not in {SOURCE_PACKAGE}")
    for code in sorted(ours.keys() & theirs.keys()):
        province, group = theirs[code], PROVINCE_GROUPS.get(theirs[code].division_type)
        name = clean(province.name)
        expected = name if group == "THANH_PHO" else f"Tỉnh {name}"
        if group != ours[code]["group"]:
            differences.append(
                f"province {code}: {SOURCE_PACKAGE} says {province.division_type!r}, "
                f"provinces.json {ours[code]['group']}"
            )
        elif expected != ours[code]["label"]:
            differences.append(
                f"province {code}: {SOURCE_PACKAGE} names it {name!r}, provinces.json {ours[code]['label']!r}"
            )
    if differences:
        raise SourceMismatch("the source's provinces differ from provinces.json:\n  " + "\n  ".join(differences))


def commune_values(
    communes: Iterable[SourceCommune], provinces: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The catalog's values, sorted by code: label NFC, group the kind, attribute the province."""
    values: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for commune in communes:
        code = commune_code(commune.code)
        group = COMMUNE_GROUPS.get(commune.division_type)
        province = province_code(commune.province)
        label = clean(commune.name)
        if code in values:
            problems.append(f"commune {code} twice")
        if group is None:
            problems.append(f"commune {code} ({label}): unknown kind {commune.division_type!r}")
        if province not in provinces:
            problems.append(f"commune {code} ({label}): province {province} is not in provinces.json on {VALID_FROM}")
        if not label or len(label) > 255:
            problems.append(f"commune {code}: label {label!r} empty or over 255 characters")
        values[code] = {
            "code": code,
            "label": label,
            "group": group,
            "valid_from": VALID_FROM,
            "attributes": {"province": province},
        }
    empty = sorted(provinces.keys() - {v["attributes"]["province"] for v in values.values()})
    problems.extend(f"province {code} has no commune" for code in empty)
    if problems:
        raise SourceMismatch("the source's communes cannot be taken:\n  " + "\n  ".join(problems))
    return [values[code] for code in sorted(values)]


def communes_document(source: Source, provinces_doc: Mapping[str, Any]) -> dict[str, Any]:
    ours = provinces_on(provinces_doc, VALID_FROM)
    check_provinces(source.provinces, ours)
    return {
        "catalog": "communes",
        "label": "Xã, phường, đặc khu (đơn vị hành chính cấp xã)",
        "legal_basis": LEGAL_BASIS,
        "groups": {"XA": "Xã", "PHUONG": "Phường", "DAC_KHU": "Đặc khu"},
        "parent": {"catalog": "provinces", "attribute": "province"},
        "note": NOTE.format(
            command=COMMAND, package=SOURCE_PACKAGE, version=source.version, data_version=source.data_version
        ),
        "source": {
            "package": SOURCE_PACKAGE,
            "version": source.version,
            "data_version": source.data_version,
            "license": SOURCE_LICENSE,
            "repository": SOURCE_REPOSITORY,
            "generated_by": COMMAND,
        },
        "values": commune_values(source.communes, ours),
    }


def render(document: Mapping[str, Any]) -> str:
    """The file's text: one header key a line, then one value a line, UTF-8 as written (NFC)."""
    lines = ["{"]
    for key, item in document.items():
        if key == "values":
            continue
        lines.append(f"  {json.dumps(key)}: {json.dumps(item, ensure_ascii=False)},")
    values = [f"    {json.dumps(value, ensure_ascii=False)}" for value in document["values"]]
    lines.append('  "values": [')
    lines.append(",\n".join(values))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def generate_communes(source: Source | None = None) -> str:
    provinces_doc = json.loads(provinces_path().read_text(encoding="utf-8"))
    return render(communes_document(source or read_source(), provinces_doc))


GENERATORS = {"communes": (communes_path, generate_communes)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qlcb_devstack.catalog_sources", description=__doc__.split("\n")[0])
    parser.add_argument("catalog", choices=sorted(GENERATORS), help="the catalog data file to generate")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the committed file differs")
    args = parser.parse_args(argv)
    path_of, generate = GENERATORS[args.catalog]
    path = path_of()
    try:
        text = generate()
    except SourceMismatch as exc:
        print(f"catalog_sources: {exc}", file=sys.stderr)
        return 2
    if args.check:
        same = path.is_file() and path.read_text(encoding="utf-8") == text
        print(
            f"{path.relative_to(repo_root())}: {'as generated' if same else 'differs from what the source generates'}"
        )
        return 0 if same else 1
    path.write_text(text, encoding="utf-8", newline="\n")
    print(f"{path.relative_to(repo_root())}: written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
