"""Cache identity of an embedding set.

Two extractions produce interchangeable rows only if everything that shapes a token is equal:
dataset manifest, backbone and its weights, front-end parameters, selected layers, storage dtype
and code version. The identity is hashed; the hash names the table, so a different identity can
never write into the same table.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def identity_hash(identity: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(identity).encode()).hexdigest()


def table_name(dataset: str, backbone: str, identity: dict[str, Any]) -> str:
    """`emb__<dataset>__<backbone>__<hash10>` with only characters LanceDB accepts."""

    def clean(part: str) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]", "_", part.replace("+", "plus"))

    return f"emb__{clean(dataset)}__{clean(backbone)}__{identity_hash(identity)[:10]}"
