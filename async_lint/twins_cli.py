"""`async-lint twins [--check] PATHS`: every sync/async twin pair and whether it agrees.

Without `--check` it lists each pair with its verdict (delegating, equal, stub, test, marked,
diverges); with `--check` (for CI) it prints only the pairs that diverge, each with what differs
and a unified diff of the two twins in their compared (sync, normal) form, and exits 1 when
there is any.  The
verdicts are ASL501's: a `# async-lint: twin-differs: <reason>` marker or a `# noqa` (`# noqa:
ASL501`) on the reported `def` line counts as marked.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import sys
from collections import Counter
from dataclasses import dataclass

from . import twins
from .config import ConfigError, TwinSettings, load_config
from .discovery import MissingPath, discover
from .engine import parse
from .imports import import_bindings, module_name_for
from .noqa import noqa_codes
from .output import display_path
from .project_setup import ProjectModel
from .source import SourceFile, UnreadableSource
from .twins.presentation import compared_text, describe

CODE = "ASL501"
VERDICT_ORDER = (twins.DELEGATING, twins.EQUAL, twins.STUB, twins.TEST, twins.MARKED, twins.DIVERGES)
VERDICT_WORDS = {
    twins.DELEGATING: "delegating",
    twins.EQUAL: "equal",
    twins.STUB: "with a stub",
    twins.TEST: "in tests (not compared)",
    twins.MARKED: "marked as differing",
    twins.DIVERGES: "diverging",
}


@dataclass
class Judged:
    path: str
    comparison: twins.Comparison
    lines: list[str]

    @property
    def verdict(self) -> str:
        return self.comparison.verdict

    @property
    def row(self) -> int:
        return self.comparison.pair.async_.lineno


def judge_file(path: str, settings: TwinSettings, relations: frozenset[str] = frozenset()) -> list[Judged] | None:
    """The pairs of one file; None when it cannot be read or parsed."""
    try:
        with open(path, "rb") as handle:
            source = SourceFile.from_bytes(path, handle.read())
    except (OSError, UnreadableSource):
        return None
    if "async def" not in source.text:
        return []
    tree = parse(source)
    if not isinstance(tree, ast.Module):
        return None
    module, is_package = module_name_for(path)
    file_twins = twins.FileTwins(source, tree, import_bindings(tree, module, is_package), settings, relations)
    judged = []
    for pair in file_twins.pairs:
        comparison = file_twins.comparison(pair)
        if comparison.verdict == twins.DIVERGES and _noqa(source, pair):
            comparison.verdict, comparison.reason = twins.MARKED, "noqa"
        judged.append(Judged(path, comparison, file_twins.lines))
    return judged


def _noqa(source: SourceFile, pair: twins.TwinPair) -> bool:
    for function in (pair.sync, pair.async_):
        codes = noqa_codes(source, function.lineno)
        if codes is not None and (not codes or CODE in codes):
            return True
    return False


def diff(judged: Judged) -> str:
    comparison = judged.comparison
    pair = comparison.pair
    sync_form, async_form = comparison.forms
    sync_text = compared_text(pair.sync.name, sync_form.body, sync_form.arguments)
    async_text = compared_text(pair.sync.name, async_form.body, async_form.arguments)
    shown = display_path(judged.path)
    prefix = ".".join(pair.path)
    prefix = prefix + "." if prefix else ""
    return "".join(
        difflib.unified_diff(
            sync_text.splitlines(keepends=True),
            async_text.splitlines(keepends=True),
            f"{shown}:{pair.sync.lineno} {prefix}{pair.sync.name} (sync, compared form)",
            f"{shown}:{pair.async_.lineno} {prefix}{pair.async_.name} (async, compared form)",
        )
    )


def _model_relations(config, files: list[str]) -> frozenset[str]:
    """The project's model relations (from the model index over the project root), as ASL501
    reads them."""
    return ProjectModel.of_files({*files, *discover([str(config.root)], config)}, config.twins.patterns).index.relation_names


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.paths, args.config)
        files = discover(args.paths, config)
    except ConfigError as error:
        print(f"async-lint: error: {error}", file=sys.stderr)
        return 2
    except MissingPath as error:
        print(f"async-lint: error: no such file or directory: {error}", file=sys.stderr)
        return 2
    judged: list[Judged] = []
    relations = _model_relations(config, files)
    for path in files:
        found = judge_file(path, config.twins, relations)
        if found is None:
            shown = display_path(path)
            print(f"async-lint: warning: {shown}: cannot be read or parsed; its twins were not checked", file=sys.stderr)
            continue
        judged.extend(found)
    out = sys.stdout
    judged.sort(key=lambda item: (item.path, item.row))
    for item in judged:
        diverges = item.verdict == twins.DIVERGES
        if args.check and not diverges:
            continue
        location = f"{display_path(item.path)}:{item.row}"
        if diverges:
            message, notes = describe(item.comparison, item.lines)
            out.write(f"{location}: {CODE} {message}\n")
            if args.check or args.diff:
                for note in notes:
                    out.write(f"  = note: {note}\n")
                out.write(diff(item))
        else:
            reason = f" ({item.comparison.reason})" if item.verdict == twins.MARKED else ""
            out.write(f"{location}: {item.comparison.pair.label} {item.verdict}{reason}\n")
    counts = Counter(item.verdict for item in judged)
    parts = [f"{counts[v]} {VERDICT_WORDS[v]}" for v in VERDICT_ORDER if counts[v]]
    total = len(judged)
    out.write(f"{total} twin pair{'s' * (total != 1)}" + (f": {', '.join(parts)}" if parts else "") + ".\n")
    return 1 if args.check and counts[twins.DIVERGES] else 0
