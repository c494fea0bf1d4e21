"""One JSON object per line (ruff's `json-lines`): the fields of the `json` format."""

from __future__ import annotations

import json

from .json import as_dicts


def render(report, unsafe: bool) -> str:
    return "\n".join(json.dumps(item) for item in as_dicts(report))
