"""async-lint as a flake8 plugin: `flake8 --select ASL` reports what `async-lint check` reports.

Registered as the `ASL` entry point of `flake8.extension`.  Per file it takes the `ast` tree
flake8 already parsed and the lines it already read, so a file is not parsed a second time for
linting.  The project's model index (which classes are models, their relations and managers)
is built once, when flake8 hands over its options: from the project root and configuration
that `async-lint check` finds for the paths flake8 was given, plus those paths (flake8 checks
them whatever `.gitignore` says, so their models count).  flake8's `--jobs` workers, forked
after that, share it (where flake8 spawns its workers instead, each builds its own).

Configuration is async-lint's own `[tool.async-lint]` (select, ignore, per-file-ignores,
target-version); the target Django version can also be given to flake8 as
`--async-lint-target-version X.Y` (or `async-lint-target-version` in flake8's config), which
wins.  flake8 then selects among the codes as usual, and `# noqa: ASL101` works through flake8.
Off-by-default rules (ASL203, ASL301) are enabled by naming their exact code in flake8's
`--select`/`--extend-select`.  Fixes are not applied: use `async-lint check --fix`.

Differences from `async-lint check`: flake8 decides which files are checked (its excludes, not
async-lint's), a file that does not parse is flake8's E999 rather than ASL901, and ASL902/ASL903
(unreadable file, fix not applied) cannot occur.
"""

from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass, field, replace
from typing import Iterator

from . import __version__
from .config import Config, ConfigError, detect_target, load_config
from .discovery import discover
from .engine import Dispatch, LintSettings, lint_source, too_deep_diagnostic
from .project import ProjectIndex
from .rules import RULES
from .functions import ProjectFunctions
from .runner import enabled_for, index_of_files, module_paths, resolve_codes
from .workers import project_functions
from .source import SourceFile

# As in the CLI: inference follows long method chains recursively.
RECURSION_LIMIT = 6000


class AsyncLintConfigError(Exception):
    """Bad `[tool.async-lint]` configuration; flake8 reports it as the plugin failing."""


@dataclass
class Project:
    """What every file of one project shares within a flake8 process."""

    config: Config
    settings: LintSettings
    index: ProjectIndex
    module_paths: dict[str, str]
    dispatches: dict[frozenset[str], Dispatch] = field(default_factory=dict)
    _functions: ProjectFunctions | None = None

    def dispatch(self, enabled: frozenset[str]) -> Dispatch:
        if enabled not in self.dispatches:
            self.dispatches[enabled] = Dispatch(enabled)
        return self.dispatches[enabled]

    @property
    def functions(self) -> ProjectFunctions:
        """The project's functions, followed across modules as `async-lint check` does."""
        if self._functions is None:
            self._functions = project_functions(self.index, self.module_paths, self.settings.target, self.dispatch(self.settings.enabled))
        return self._functions


class Plugin:
    name = "async-lint"
    version = __version__

    # Set from flake8's options (once per process, before any file).
    target_version: str | None = None
    explicitly_selected: frozenset[str] = frozenset()
    paths: tuple[str, ...] = ()

    # Per process: project by configuration file (or root), and by folder of a checked file.
    _projects: dict[str, Project] = {}
    _by_folder: dict[str, Project] = {}

    def __init__(self, tree: ast.AST, filename: str, lines: list[str]):
        self.tree = tree
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, manager) -> None:
        manager.add_option(
            "--async-lint-target-version",
            metavar="X.Y",
            default=None,
            parse_from_config=True,
            help="Django version async-lint's messages and fixes target (default: target-version in "
            "[tool.async-lint], else the project's Django requirement, else the installed Django)",
        )

    @classmethod
    def parse_options(cls, options) -> None:
        cls.target_version = options.async_lint_target_version
        if cls.target_version:
            from .django_api import parse_version

            try:
                parse_version(cls.target_version)
            except ValueError as error:
                raise SystemExit(f"flake8: --async-lint-target-version: {error}") from None
        named = [*(options.select or ()), *(getattr(options, "extend_select", None) or ())]
        cls.explicitly_selected = frozenset(
            c.upper() for c in named if c.upper() in RULES and not RULES[c.upper()].default_enabled
        )
        cls.paths = tuple(p for p in (options.filenames or ()) if p != "-" and os.path.exists(p))
        cls._projects.clear()
        cls._by_folder.clear()
        if cls.paths:
            # Built now, in flake8's main process, the project is inherited by the workers
            # flake8 forks for --jobs rather than built again in each of them.
            try:
                cls._project(os.path.abspath(cls.paths[0]))
            except AsyncLintConfigError:
                pass  # reported for the first file checked, as flake8 reports a plugin's failure

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        if not isinstance(self.tree, ast.Module):
            return
        path = os.path.abspath(self.filename)
        project = self._project(path)
        enabled = enabled_for(path, project.settings.enabled, project.config)
        if not enabled:
            return
        dispatch = project.dispatch(enabled)
        settings = LintSettings(project.settings.target, enabled, project.settings.twins)
        source = SourceFile(path, "".join(self.lines))
        try:
            diagnostics = lint_source(source, project.index, settings, dispatch, self.tree, project.functions)
        except RecursionError:
            diagnostics = [too_deep_diagnostic(path)]
        for d in diagnostics:
            if d.code in enabled:
                row, column = source.row_col(d.start) if source.text else (1, 1)
                # flake8 columns are 0-based (it adds 1 when it prints them).
                yield row, column - 1, f"{d.code} {d.message}", type(self)

    # -- the project, once per process --------------------------------------------------

    @classmethod
    def _project(cls, path: str) -> Project:
        """The project as `async-lint check` would see it given the same paths as flake8: its
        configuration is found from those paths (for a file alone, from its folder)."""
        folder = os.path.dirname(path) if os.path.exists(path) else os.getcwd()
        paths = list(cls.paths) or [folder]
        lookup = "\0".join(paths)
        project = cls._by_folder.get(lookup)
        if project is None:
            try:
                config = load_config(paths)
            except ConfigError as error:
                raise AsyncLintConfigError(str(error)) from None
            key = str(config.path or config.root)
            project = cls._projects.get(key)
            if project is None:
                project = cls._projects[key] = cls._build(config)
            cls._by_folder[lookup] = project
        return project

    @classmethod
    def _build(cls, config: Config) -> Project:
        sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
        try:
            target, _ = detect_target(config, cls.target_version)
            enabled = resolve_codes(
                [*config.select, *config.extend_select, *cls.explicitly_selected], config.ignore
            )
        except ValueError as error:
            raise AsyncLintConfigError(f"{config.path}: {error}") from None
        settings = LintSettings(target, enabled, config.twins)
        return Project(config, settings, *cls._index(config))

    @classmethod
    def _index(cls, config: Config) -> tuple[ProjectIndex, dict[str, str]]:
        """The model index over the project root and the paths flake8 was given, as
        `async-lint check` builds it (Run._index)."""
        root = str(config.root)
        files = set(discover([root], config))
        given = [p for p in cls.paths if os.path.isdir(p) or p.endswith((".py", ".pyi"))]
        if given:
            unignored = replace(config, respect_gitignore=False)
            files.update(discover(given, unignored))
        return index_of_files(files, config.twins.patterns), module_paths(files)
