"""SARIF 2.1.0, the format GitHub code scanning (`github/codeql-action/upload-sarif`) and other
static-analysis dashboards read.

One run; `tool.driver.rules` lists every rule with its documentation and link, and each result
points at its rule by id and index.  Locations are relative to the repository root (the
`%SRCROOT%` base: GITHUB_WORKSPACE in Actions, else the git repository of the current folder),
columns count Unicode code points as async-lint's do (`columnKind`), and a finding with a fix
carries it as a SARIF `fix` (unsafe ones say so in their description).
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import __version__
from ..rules import RULES
from . import location
from .ci import fingerprints, relative_path, repository_root

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
INFORMATION_URI = "https://github.com/async-lint/async-lint"
LEVEL = "error"


def _rule(rule) -> dict:
    from ..docs import rule_markdown

    summary = rule.summary()
    body = rule.doc().partition("\n")[2].strip() or summary
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": body},
        "help": {"text": f"{summary} See {rule.url()}", "markdown": rule_markdown(rule)},
        "helpUri": rule.url(),
        "defaultConfiguration": {"level": LEVEL, "enabled": rule.default_enabled},
        "properties": {"family": rule.family(), "fixable": rule.has_fix()},
    }


def _region(source, start: int, end: int) -> dict:
    first, last = location(source, start), location(source, end)
    return {
        "startLine": first["row"],
        "startColumn": first["column"],
        "endLine": last["row"],
        "endColumn": last["column"],
    }


def _artifact(path: str, root: Path) -> dict:
    relative = relative_path(path, root)
    if relative is None:
        return {"uri": Path(path).resolve().as_uri()}
    return {"uri": relative, "uriBaseId": SRCROOT}


def as_dict(report) -> dict:
    root = repository_root("GITHUB_WORKSPACE")
    rule_index = {code: n for n, code in enumerate(RULES)}
    results = []
    for d, fingerprint in zip(report.diagnostics, fingerprints(report.diagnostics, report.sources, root)):
        source = report.sources.get(d.path)
        artifact = _artifact(d.path, root)
        result = {
            "ruleId": d.code,
            "level": LEVEL,
            "message": {"text": d.message},
            "locations": [{"physicalLocation": {"artifactLocation": artifact, "region": _region(source, d.start, d.end)}}],
            "partialFingerprints": {"asyncLint/v1": fingerprint},
        }
        if d.code in rule_index:
            result["ruleIndex"] = rule_index[d.code]
        if d.fix is not None:
            unsafe = d.fix.applicability.value == "unsafe"
            result["fixes"] = [
                {
                    "description": {"text": d.fix.message + (" (unsafe fix: may change behaviour)" if unsafe else "")},
                    "artifactChanges": [
                        {
                            "artifactLocation": artifact,
                            "replacements": [
                                {
                                    "deletedRegion": _region(source, edit.start, edit.end),
                                    "insertedContent": {"text": edit.content},
                                }
                                for edit in d.fix.edits
                            ],
                        }
                    ],
                }
            ]
        results.append(result)
    run = {
        "tool": {
            "driver": {
                "name": "async-lint",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule) for rule in RULES.values()],
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def render(report, unsafe: bool) -> str:
    return json.dumps(as_dict(report), indent=2)
