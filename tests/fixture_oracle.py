"""The fixture cases (fixtures/project/cases) as data, the real CLI, and the runtime runner.

A case module holds module-level `async def`s whose name prefix says what the oracle expects:

- `case_*`            the original raises SynchronousOnlyOperation; with DJANGO_ALLOW_ASYNC_UNSAFE=1
                      it returns the intended result; the fixed code returns it without the variable.
- `blocking_case_*`   blocking I/O that Django does not guard (LocMem cache, locmem mail): the original
                      returns the intended result but does the I/O on the event loop's thread; the
                      fixed code returns it and does the I/O only off the loop.
- `unawaited_case_*`  a coroutine that is never awaited: the original returns False (the effect did not
                      happen) and Python warns "never awaited"; the fixed code returns True.
- `anonymous_case_*`  `request.user`/`request.session` of an anonymous request: nothing is loaded, so the
                      original cannot raise; original and fixed both return the intended result.
- `safe_case_*`       look-alikes: no finding, no exception, the intended result, unchanged by --fix.

`@returns(value)` (cases/_seed.py) states the intended result.  A case taking `request` gets a
request built by `_seed.make_request()`: logged in, except for `anonymous_case_*`.

Expected findings are trailing comments on the line where a finding starts:
`# expect: ASL101, ASL110[5.1], ASL113[never]`.  `[X.Y]`: the fix needs target X.Y or newer (below it,
the finding survives `--fix` and the fixed code still raises); `[never]`: no automatic fix.

Run as `python -m tests.fixture_oracle run SPEC.json` (see `run_cases`), in a subprocess, so that
Django's settings never leak into the test process.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import subprocess
import sys
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "fixtures" / "project"
CASES = PROJECT / "cases"

KINDS = ("blocking_case_", "unawaited_case_", "anonymous_case_", "safe_case_", "case_")
NEVER = (99, 99, 99)
_EXPECT = re.compile(r"#\s*expect:\s*(?P<items>.*)$")
_ITEM = re.compile(r"^(?P<code>ASL\d{3})(?:\[(?P<since>never|\d+\.\d+(?:\.\d+)?)\])?$")


# Cases whose failure is a known engine bug, written up in /work/oracle-bugs.md.  Each entry
# names the tests that fail because of it; those are marked xfail(strict=True), so a fix in the
# engine turns them into errors until the entry is removed.
KNOWN_BUGS: dict[str, tuple[frozenset[str], str]] = {
    "expressions::case_count_in_sort_key_lambda": (
        frozenset({"findings"}),
        "queries in a lambda that sorted()/min()/map() call on the loop are not flagged: the "
        "lambda's parameter is not typed from the iterable",
    ),
}


def known_bug(case_id: str, test: str):
    """A strict xfail mark for `test` ("findings", "original", "fixed-5.2", ...) of a case, or ()."""
    import pytest

    tests, reason = KNOWN_BUGS.get(case_id, (frozenset(), ""))
    return (pytest.mark.xfail(strict=True, reason=reason),) if test in tests else ()


def parse_version(text: str) -> tuple[int, int, int]:
    major, minor, *patch = (int(p) for p in text.split("."))
    return (major, minor, patch[0] if patch else 0)


@dataclass(frozen=True)
class Expected:
    module: str
    row: int
    code: str
    fix_since: tuple[int, int, int] | None  # None: fixable at every target the tests use
    function: str | None  # the top-level definition the line belongs to

    def fixed_at(self, target: tuple[int, int, int]) -> bool:
        return self.fix_since is None or target >= self.fix_since


@dataclass
class Case:
    module: str
    name: str
    kind: str
    takes_request: bool
    expected: list[Expected] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.module}::{self.name}"

    def fixed_at(self, target: tuple[int, int, int]) -> bool:
        return all(e.fixed_at(target) for e in self.expected)


def case_files() -> list[Path]:
    return sorted(p for p in CASES.glob("*.py") if not p.name.startswith("_"))


def kind_of(name: str) -> str | None:
    return next((k for k in KINDS if name.startswith(k)), None)


def top_level_spans(tree: ast.Module) -> list[tuple[int, int, str]]:
    spans = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            spans.append((start, node.end_lineno, node.name))
    return spans


def enclosing(spans: list[tuple[int, int, str]], row: int) -> str | None:
    return next((name for start, end, name in spans if start <= row <= end), None)


def parse_expectations(path: Path, text: str | None = None) -> list[Expected]:
    text = path.read_text() if text is None else text
    spans = top_level_spans(ast.parse(text))
    found = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = _EXPECT.search(token.string)
        if not match:
            continue
        row = token.start[0]
        for item in (i.strip() for i in match.group("items").split(",")):
            parsed = _ITEM.match(item)
            if parsed is None:
                raise ValueError(f"{path.name}:{row}: bad expectation {item!r}")
            since = parsed.group("since")
            fix_since = None if since is None else NEVER if since == "never" else parse_version(since)
            found.append(Expected(path.stem, row, parsed.group("code"), fix_since, enclosing(spans, row)))
    return found


def discover_cases() -> list[Case]:
    cases = []
    for path in case_files():
        tree = ast.parse(path.read_text())
        expected = parse_expectations(path)
        classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
        for node in tree.body:
            if isinstance(node, ast.AsyncFunctionDef):
                params = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
                kind = kind_of(node.name) or "?"
                case = Case(path.stem, node.name, kind, "request" in params)
                # A case also owns the findings of the module's classes it uses (their async
                # methods run only through it).
                used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} & classes
                case.expected = [e for e in expected if e.function == node.name or e.function in used]
                cases.append(case)
    return cases


# -- the CLI -----------------------------------------------------------------------------------


def cli(paths: list[str], *args: str, cwd: Path = ROOT) -> subprocess.Popen:
    """Start the real CLI (`python -m async_lint check ...`); JSON on stdout."""
    command = [sys.executable, "-m", "async_lint", "check", *paths, "--output-format", "json", *args]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def findings_of(process: subprocess.Popen, timeout: float = 120) -> list[dict]:
    out, err = process.communicate(timeout=timeout)
    # 0: no findings left, 1: findings left.  Anything else is a usage or internal error.
    assert process.returncode in (0, 1), f"async-lint exited {process.returncode}: {err}"
    return json.loads(out)


def finding_key(item: dict, base: Path) -> tuple[str, int, str]:
    return (Path(item["filename"]).resolve().relative_to(base.resolve()).as_posix(), item["location"]["row"], item["code"])


def expected_keys(cases_dir_name: str = "cases") -> Counter:
    return Counter(
        (f"{cases_dir_name}/{path.name}", e.row, e.code) for path in case_files() for e in parse_expectations(path)
    )


# -- the runtime runner (runs in a subprocess) -------------------------------------------------


def _install_probes(calls: list[str]) -> None:
    """Record, for each LocMem cache, locmem mail or file-system storage operation, whether it ran
    on a thread with a running event loop ("loop") or not ("thread")."""
    import asyncio
    import functools

    from django.core.cache.backends.locmem import LocMemCache
    from django.core.files.storage import FileSystemStorage
    from django.core.mail.backends.locmem import EmailBackend

    def probe(cls, name):
        original = cls.__dict__[name]

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            try:
                asyncio.get_running_loop()
                calls.append("loop")
            except RuntimeError:
                calls.append("thread")
            return original(*args, **kwargs)

        setattr(cls, name, wrapper)

    for name in ("add", "get", "set", "touch", "incr", "has_key", "delete", "clear"):
        probe(LocMemCache, name)
    probe(EmailBackend, "send_messages")
    for name in ("_save", "_open", "delete", "exists", "size", "listdir"):
        probe(FileSystemStorage, name)


def _jsonable(value):
    return json.loads(json.dumps(value))


def _run_one(function, kind: str, unsafe: bool, calls: list[str]) -> dict:
    import asyncio
    import gc
    import inspect
    import warnings

    from cases._seed import make_request, seed

    seed()
    kwargs = {}
    if "request" in inspect.signature(function).parameters:
        kwargs["request"] = make_request(logged_in=kind != "anonymous_case_")
    calls.clear()

    async def main():
        # Called inside the loop: a decorator such as @transaction.atomic runs here.
        return await asyncio.wait_for(function(**kwargs), timeout=30)

    if unsafe:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
    observation: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = asyncio.run(main())
            try:
                observation = {"outcome": "returned", "value": _jsonable(value)}
            except (TypeError, ValueError):
                observation = {"outcome": "unserializable", "value": repr(value)}
        except BaseException as error:  # noqa: BLE001 - every outcome is data for the oracle
            observation = {
                "outcome": "raised",
                "type": f"{type(error).__module__}.{type(error).__qualname__}",
                "message": str(error)[:500],
            }
        finally:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        # A dropped coroutine warns when it is freed: at once, or at a collection if a
        # cycle keeps it alive (the state before the runs is frozen: collections are cheap).
        gc.collect()
    observation["never_awaited"] = any("was never awaited" in str(w.message) for w in caught)
    observation["loop_calls"] = calls.count("loop")
    observation["thread_calls"] = calls.count("thread")
    return observation


def run_cases(spec: dict) -> dict:
    """spec: {"project": dir on sys.path, "db": sqlite file, "variants": {name: cases dir}};
    result: {variant: {"module::case": {run: observation}}}."""
    import gc
    import importlib.util

    sys.dont_write_bytecode = True
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    os.environ["FIXTURE_DB"] = spec["db"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "fixtureproject.settings"
    sys.path.insert(0, spec["project"])
    import django
    from django.db.backends.signals import connection_created

    def no_fsync(sender, connection, **kwargs):
        # Still a file database shared by every thread; only the fsync per commit goes.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")

    connection_created.connect(no_fsync)
    django.setup()
    from django.core.management import call_command
    from django.test.utils import override_settings

    from cases import _seed

    # DEBUG=False: no query log (it slows every query and every garbage collection).
    override_settings(PASSWORD_HASHERS=_seed.PASSWORD_HASHERS, DEBUG=False).enable()
    call_command("migrate", run_syncdb=True, verbosity=0)
    calls: list[str] = []
    _install_probes(calls)
    _seed.seed()

    results: dict = {}
    for variant, directory in spec["variants"].items():
        runs = ("original", "original_unsafe") if variant == "original" else (variant,)
        per_case = results.setdefault(variant, {})
        for path in sorted(Path(directory).glob("*.py")):
            if path.name.startswith("_"):
                continue
            name = f"oracle_{re.sub(r'[^0-9a-zA-Z]', '_', variant)}_{path.stem}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
            for attribute, function in list(vars(module).items()):
                kind = kind_of(attribute)
                if kind is None or not callable(function) or getattr(function, "__module__", None) != name:
                    continue
                gc.freeze()
                observations = per_case.setdefault(f"{path.stem}::{attribute}", {})
                observations["intended"] = {"value": _jsonable(getattr(function, "intended", None)), "marked": hasattr(function, "intended")}
                for run in runs:
                    observations[run] = _run_one(function, kind, run == "original_unsafe", calls)
    return results


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "run":
        print("usage: python -m tests.fixture_oracle run SPEC.json OUT.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[1]).read_text())
    Path(argv[2]).write_text(json.dumps(run_cases(spec), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
