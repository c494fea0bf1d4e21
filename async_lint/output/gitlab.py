"""GitLab Code Quality: the JSON report a job publishes with `artifacts: reports: codequality`,
shown in merge requests.  Paths are relative to the checkout (CI_PROJECT_DIR, else the git
repository of the current folder); fingerprints identify a finding across pipelines."""

from __future__ import annotations

import json
import os

from ..rules import RULES
from . import location
from .ci import fingerprints, relative_path, repository_root

SEVERITY = "major"


def as_dicts(report) -> list[dict]:
    root = repository_root("CI_PROJECT_DIR")
    items = []
    for d, fingerprint in zip(report.diagnostics, fingerprints(report.diagnostics, report.sources, root)):
        source = report.sources.get(d.path)
        rule = RULES.get(d.code)
        items.append(
            {
                "description": f"{d.code} {d.message}",
                "check_name": f"{d.code} ({rule.name})" if rule else d.code,
                "fingerprint": fingerprint,
                "severity": SEVERITY,
                "location": {
                    "path": relative_path(d.path, root) or os.path.abspath(d.path),
                    "lines": {"begin": location(source, d.start)["row"], "end": location(source, d.end)["row"]},
                },
            }
        )
    return items


def render(report, unsafe: bool) -> str:
    return json.dumps(as_dicts(report), indent=2)
