from __future__ import annotations

import json

from qlcb.personnel.v1 import record_pb2
from qlcb_personnel.catalogs.models import CatalogValue


def to_proto(value: CatalogValue) -> record_pb2.CatalogValue:
    return record_pb2.CatalogValue(
        catalog=value.catalog,
        code=value.code,
        label=value.label,
        stat_group=value.stat_group or "",
        valid_from=value.valid_from.isoformat(),
        valid_to=value.valid_to.isoformat() if value.valid_to else "",
        attributes_json=json.dumps(value.attributes, ensure_ascii=False, sort_keys=True),
        legal_basis=value.legal_basis,
    )
