"""How many real divergences would ASL501 report?  Seeded divergences in real twins.

For every twin pair that ASL501 judges equal in the given projects, the async twin is changed
the way a fix applied to one path leaves it (one change per copy of the file):

- guard: a check that returns or raises is deleted;
- write: a call made as a statement (a save, a send, a cache write) is deleted;
- argument: the last keyword argument of a call is dropped;
- constant: a string or number is changed;
- exception: the class a `raise` raises is changed.

Each copy is judged again; the share reported as diverging is the rule's recall on that kind of
difference.  Some mutants change nothing (a redundant check), so the figures are lower bounds.
Logging calls and messages are left alone: they are not behaviour.

    python benchmarks/twins_mutations.py DIR [DIR ...] [--per-pair 2] [--show 5]
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from async_lint import twins  # noqa: E402
from async_lint.config import TwinSettings  # noqa: E402
from async_lint.imports import import_bindings, module_name_for  # noqa: E402
from async_lint.source import SourceFile  # noqa: E402
from async_lint.twins.normal_form import is_form_test, is_logging_call  # noqa: E402
from async_lint.twins.pairs import own_nodes  # noqa: E402

KINDS = ("guard", "write", "argument", "constant", "exception")


def file_twins(path: str, text: str) -> twins.FileTwins | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return None
    module, is_package = module_name_for(path)
    return twins.FileTwins(SourceFile(path, text), tree, import_bindings(tree, module, is_package), TwinSettings())


def _statement_edit(source: SourceFile, stmt: ast.stmt) -> tuple[int, int, str]:
    """`pass` in place of a statement, its line breaks kept in an empty bracket (`pass; (...)`)
    so that the lines after it keep their numbers."""
    start, end = source.start(stmt), source.end(stmt)
    breaks = source.text[start:end].count("\n")
    return start, end, "pass" + (f"; ({chr(10) * breaks})" if breaks else "")


def mutants(source: SourceFile, function: ast.AsyncFunctionDef):
    """(kind, description, (start, end, replacement)) for one async twin."""
    nodes = list(own_nodes(function.body))
    for node in nodes:
        if isinstance(node, ast.If) and not is_form_test(node.test):
            if any(isinstance(n, (ast.Return, ast.Raise)) for n in own_nodes(node.body)):
                yield "guard", ast.unparse(node.test)[:60], _statement_edit(source, node)
        elif isinstance(node, ast.Expr):
            call = node.value.value if isinstance(node.value, ast.Await) else node.value
            if isinstance(call, ast.Call) and not is_logging_call(call):
                yield "write", ast.unparse(call.func)[:60], _statement_edit(source, node)
        elif isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            replacement = "ValueError" if ast.unparse(exc).endswith("RuntimeError") else "RuntimeError"
            yield "exception", ast.unparse(exc)[:60], (source.start(exc), source.end(exc), replacement)
    for node in nodes:
        if isinstance(node, ast.Call) and not is_logging_call(node) and node.keywords:
            keyword = node.keywords[-1]
            if keyword.arg is None:
                continue
            before = node.keywords[-2] if len(node.keywords) > 1 else (node.args[-1] if node.args else None)
            start = source.end(before) if before is not None else source.end(node.func) + 1
            yield "argument", f"{keyword.arg}=", (start, source.end(keyword), "")
    messages = {id(n) for m in nodes if isinstance(m, (ast.Raise, ast.Call)) and (isinstance(m, ast.Raise) or is_logging_call(m)) for n in ast.walk(m)}
    for node in nodes:
        if isinstance(node, ast.Constant) and id(node) not in messages and not isinstance(node.value, bool):
            segment = source.segment(node)
            if isinstance(node.value, str) and segment[-1:] in "'\"" and len(node.value) < 60 and node.value.isprintable():
                yield "constant", repr(node.value)[:40], (source.end(node) - 1, source.end(node) - 1, "_x")
            elif isinstance(node.value, int) and segment.isdigit():
                yield "constant", segment, (source.start(node), source.end(node), str(node.value + 1))


def judge(path: str, text: str, names: tuple[str, str], pair_path: tuple[str, ...]) -> str | None:
    found = file_twins(path, text)
    if found is None:
        return None
    for pair in found.pairs:
        if pair.names == names and pair.path == pair_path:
            return found.comparison(pair).verdict
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--per-pair", type=int, default=2, help="mutants of each kind per pair (default 2)")
    parser.add_argument("--show", type=int, default=5, help="undetected mutants to show per kind")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    made, detected = Counter(), Counter()
    missed: dict[str, list[str]] = defaultdict(list)
    pairs = 0
    for root in args.paths:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                path = os.path.join(folder, name)
                try:
                    text = Path(path).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                if "async def" not in text:
                    continue
                found = file_twins(path, text)
                if found is None:
                    continue
                for pair in found.pairs:
                    if found.comparison(pair).verdict != twins.EQUAL:
                        continue
                    pairs += 1
                    by_kind = defaultdict(list)
                    for kind, what, edit in mutants(found.source, pair.async_):
                        by_kind[kind].append((what, edit))
                    for kind, candidates in by_kind.items():
                        for what, (start, end, replacement) in rng.sample(candidates, min(args.per_pair, len(candidates))):
                            mutated = text[:start] + replacement + text[end:]
                            verdict = judge(path, mutated, pair.names, pair.path)
                            if verdict in (None, twins.STUB):
                                continue  # the change broke the file, or left the twin a bare `pass`
                            made[kind] += 1
                            if verdict == twins.DIVERGES:
                                detected[kind] += 1
                            else:
                                missed[kind].append(f"{path}:{pair.async_.lineno} {pair.async_.name}: {what}")
    print(f"twin pairs judged equal and mutated: {pairs}")
    print(f"{'kind':<10} {'mutants':>8} {'reported':>9} {'recall':>7}")
    for kind in KINDS:
        if made[kind]:
            print(f"{kind:<10} {made[kind]:>8} {detected[kind]:>9} {detected[kind] / made[kind]:>7.0%}")
    total, found_total = sum(made.values()), sum(detected.values())
    if total:
        print(f"{'all':<10} {total:>8} {found_total:>9} {found_total / total:>7.0%}")
    for kind in KINDS:
        for line in missed[kind][: args.show]:
            print(f"  not reported ({kind}): {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
