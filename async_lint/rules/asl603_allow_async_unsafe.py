from __future__ import annotations

import ast
import re
from pathlib import PurePath

from ..imports import qualify
from .base import MODULE, Invalid, Rule, Valid
from .asl6_request_data import Frames

VARIABLE = "DJANGO_ALLOW_ASYNC_UNSAFE"
ENVIRON = "os.environ"
PUTENV = "os.putenv"

_TEST_DIRECTORIES = frozenset({"test", "tests", "testing"})
# "test", "tests", "testing", "pytest", "unittest" as a word of a name or string, not "latest".
_TESTISH = re.compile(r"(?:^|[^a-z])(?:py|unit)?test(?:s|ing)?(?:[^a-z]|$)", re.IGNORECASE)


def is_test_file(path: str) -> bool:
    """Tests and settings for tests: a `tests`/`test`/`testing` folder, `test_*.py`,
    `*_test(s).py`, `tests.py`, `conftest.py`, or a settings module whose name says test
    (`test_settings.py`, `settings_test.py`, `settings/testing.py`)."""
    parts = [p.lower() for p in PurePath(path).parts]
    if not parts:
        return False
    name = parts[-1].removesuffix(".py")
    if name in ("conftest", "tests", "test", "testing") or name.startswith("test_"):
        return True
    if name.endswith(("_test", "_tests")):
        return True
    if any(p in _TEST_DIRECTORIES for p in parts[:-1]):
        return True
    in_settings = "settings" in name or any("settings" in p for p in parts[-3:-1])
    return in_settings and ("test" in name or name == "ci")


class AllowAsyncUnsafe(Rule):
    """`DJANGO_ALLOW_ASYNC_UNSAFE` set by project code outside tests.

    ## What it does
    Flags `os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = …`, `os.environ.setdefault(…)`,
    `os.environ.update(…)`, `os.putenv(…)`, and an `env=` mapping that sets it for a child
    process, anywhere but in tests and settings for tests (a `tests` folder, `test_*.py`,
    `conftest.py`, `test_settings.py`, …) or under an `if` that tests for a test run.

    Not flagged: an empty value (which keeps the check on), removing the variable
    (`os.environ.pop(…)`, `del os.environ[…]`), and reading it.

    ## Why is this bad?
    Django's async-safety check (`SynchronousOnlyOperation`) is what tells you that a sync ORM
    call is running on the event loop.  The variable turns it off for the whole process, not for
    the code next to it: any non-empty value does, even `"0"` or `"false"`, and it is read on
    every check.  From then on every sync query made in async code, in any request, runs on the
    event loop and blocks it silently.  `os.putenv` does not change `os.environ`, so it leaves
    this process checked but turns the check off in every child process started afterwards.

    ## Fix
    No automatic fix (removing it makes the hidden calls raise): run the sync ORM calls with
    `sync_to_async` (or outside the event loop, e.g. before starting a Playwright/asyncio loop),
    and keep the variable to tests or an interactive shell.
    """

    code = "ASL603"
    name = "allow-async-unsafe"
    node_types = (ast.Module,)
    looks_at = MODULE
    requires_text = (VARIABLE,)

    INVALID = [
        Invalid('import os\n\nos.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")\n'),
        Invalid(
            'import os\n\n\ndef run_browser_job():\n    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "0"  # still disables it\n    return None\n'
        ),
        # Imported in the function, as task entry points often do.
        Invalid('def scrape_task(task_id):\n    import os\n\n    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")\n    return task_id\n'),
        Invalid('from os import environ, putenv\n\nputenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")\nenviron.update({"DJANGO_ALLOW_ASYNC_UNSAFE": "1"})\n', count=2),
        Invalid(
            'import os\nimport subprocess\n\n\ndef start_worker():\n    env = {**os.environ, "DJANGO_ALLOW_ASYNC_UNSAFE": "true"}\n    return subprocess.Popen(["python", "worker.py"], env=env)\n'
        ),
    ]
    VALID = [
        # Empty keeps the check on; removing and reading are fine.
        Valid('import os\n\nos.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = ""\nos.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)\nUNSAFE = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")\n'),
        # Only for a test run.
        Valid('import os\nimport sys\n\nif "test" in sys.argv:\n    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"\n'),
        # Another variable, and a mapping that is not an environment.
        Valid('import os\n\nos.environ["DJANGO_SETTINGS_MODULE"] = "site.settings"\nFLAGS = {"DJANGO_ALLOW_ASYNC_UNSAFE": "documented in README"}\n'),
    ]

    def check(self, node, ctx):
        if VARIABLE not in ctx.source.text or is_test_file(ctx.source.path):
            return
        frames: Frames | None = None
        for found, message in self._settings(node, ctx):
            frames = frames or Frames(node)
            if self._only_for_tests(found, frames):
                continue
            yield ctx.report(self.code, found, message)

    def _settings(self, tree: ast.Module, ctx):
        qualname = _Qualnames(tree, ctx)
        process = (
            "turns off Django's async-safety check for the whole process: any non-empty value, even \"0\"; every "
            "sync ORM call made in async code then blocks the event loop silently; call it with `sync_to_async` "
            "and keep the variable to tests"
        )
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if self._environ_item(target, qualname) and _sets(node.value):
                        yield target, f"setting `{VARIABLE}` {process}"
            elif isinstance(node, ast.Call):
                func = qualname(node.func)
                if func in (f"{ENVIRON}.setdefault", PUTENV) and len(node.args) >= 2:
                    if _is_variable(node.args[0]) and _sets(node.args[1]):
                        if func == PUTENV:
                            yield node, (
                                f"`os.putenv` with `{VARIABLE}` turns Django's async-safety check off in child processes: "
                                "this one stays checked (`os.environ` is unchanged), every process started afterwards is "
                                "not; call the sync code with `sync_to_async` instead"
                            )
                        else:
                            yield node, f"setting `{VARIABLE}` {process}"
                elif func == f"{ENVIRON}.update":
                    if any(_is_variable_keyword(k) and _sets(k.value) for k in node.keywords) or any(
                        _dict_sets(a) for a in node.args
                    ):
                        yield node, f"setting `{VARIABLE}` {process}"
                else:
                    for keyword in node.keywords:
                        if keyword.arg == "env" and _dict_sets(keyword.value):
                            yield keyword.value, self._child_message()
            elif isinstance(node, ast.AugAssign) and qualname(node.target) == ENVIRON and _dict_sets(node.value):
                yield node, f"setting `{VARIABLE}` {process}"
            elif isinstance(node, ast.Dict) and self._environment_dict(node, qualname):
                yield node, self._child_message()

    @staticmethod
    def _child_message() -> str:
        return (
            f"this environment sets `{VARIABLE}`: the process started with it runs without Django's async-safety "
            "check, so its sync ORM calls in async code block the event loop silently; use `sync_to_async` there"
        )

    @staticmethod
    def _environ_item(target: ast.expr, qualname) -> bool:
        return (
            isinstance(target, ast.Subscript)
            and qualname(target.value) == ENVIRON
            and _is_variable(target.slice)
        )

    @staticmethod
    def _environment_dict(node: ast.Dict, qualname) -> bool:
        """`{**os.environ, "DJANGO_ALLOW_ASYNC_UNSAFE": "1"}`: an environment being built (an
        `env=` argument is reported through the call)."""
        unpacks_environ = any(k is None and qualname(v) == ENVIRON for k, v in zip(node.keys, node.values, strict=True))
        return unpacks_environ and _dict_sets(node)

    @staticmethod
    def _only_for_tests(node: ast.AST, frames: Frames) -> bool:
        """Inside `if "test" in sys.argv:`, `if settings.TESTING:`, or a function named for tests."""
        child, parent = node, frames.parent_of(node)
        while parent is not None:
            if isinstance(parent, ast.If) and any(child is s for s in parent.body) and _mentions_test(parent.test):
                return True
            if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and _TESTISH.search(parent.name):
                return True
            child, parent = parent, frames.parent_of(parent)
        return False


class _Qualnames:
    """Imported names, including imports inside functions (`import os` in a task body, common
    next to this variable); a name the module imports itself wins."""

    def __init__(self, tree: ast.Module, ctx):
        self.file = ctx.file
        self.local_imports: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in ("os", "os.path") or alias.name.startswith("os."):
                        self.local_imports.setdefault((alias.asname or alias.name).split(".")[0], "os")
            elif isinstance(node, ast.ImportFrom) and node.module == "os" and node.level == 0:
                for alias in node.names:
                    self.local_imports.setdefault(alias.asname or alias.name, f"os.{alias.name}")

    def __call__(self, node: ast.expr) -> str | None:
        found = self.file.qualname_of(node)
        if found is not None:
            return found
        return qualify(node, self.local_imports)


def _is_variable(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == VARIABLE


def _is_variable_keyword(keyword: ast.keyword) -> bool:
    return keyword.arg == VARIABLE


def _sets(value: ast.expr | None) -> bool:
    """Any value but the empty string turns the check off."""
    return not (isinstance(value, ast.Constant) and value.value in ("", None))


def _dict_sets(node: ast.expr) -> bool:
    if isinstance(node, ast.Dict):
        return any(k is not None and _is_variable(k) and _sets(v) for k, v in zip(node.keys, node.values, strict=True))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return any(_is_variable_keyword(k) and _sets(k.value) for k in node.keywords)
    return False


def _mentions_test(test: ast.expr) -> bool:
    for node in ast.walk(test):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _TESTISH.search(node.value):
            return True
        if isinstance(node, ast.Name) and _TESTISH.search(node.id):
            return True
        if isinstance(node, ast.Attribute) and _TESTISH.search(node.attr):
            return True
    return False
