"""async-lint as a flake8 plugin: `flake8 --select ASL` reports what `async-lint check` reports.

Registered as the `ASL` entry point of `flake8.extension`.  Per file it takes the `ast` tree
flake8 already parsed and the lines it already read, so a file is not parsed a second time for
linting.  The project's model index (which classes are models, their relations and managers)
is built once, when flake8 hands over its options: from the project root and configuration
that `async-lint check` finds for the paths flake8 was given, plus those paths (flake8 checks
them whatever `.gitignore` says, so their models count), through async-lint's cache (each
file's facts and the index are read again only when changed).  flake8's `--jobs` workers, forked
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
import gc
import os
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterator

from . import __version__

if TYPE_CHECKING:
    from .functions import ProjectFunctions
    from .project_setup import Project, ProjectModel

# The engine and the rules are imported only when an ASL code is selected: flake8 imports
# every installed plugin on each run, and `flake8 --select E,W,F` must not pay for this one.

# As in the CLI: inference follows long method chains recursively.
RECURSION_LIMIT = 6000


class AsyncLintConfigError(Exception):
    """Bad `[tool.async-lint]` configuration; flake8 reports it as the plugin failing."""


@dataclass
class LoadedProject:
    """What every file of one project shares within a flake8 process."""

    project: Project
    model: ProjectModel
    _functions: ProjectFunctions | None = None

    @property
    def functions(self) -> ProjectFunctions:
        """The project's functions, followed across modules as `async-lint check` does."""
        if self._functions is None:
            self._functions = self.model.functions(self.project.target, self.project.dispatch())
        return self._functions


class Plugin:
    name = "async-lint"
    version = __version__

    # Set from flake8's options (once per process, before any file).
    active = True  # False when flake8's selection names no ASL code: then the plugin does nothing
    target_version: str | None = None
    explicitly_selected: frozenset[str] = frozenset()
    paths: tuple[str, ...] = ()

    # Per process: project by configuration file (or root), and by folder of a checked file.
    _projects: dict[str, LoadedProject] = {}
    _by_folder: dict[str, LoadedProject] = {}

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
        cls.active = _asl_selected(options)
        cls._projects.clear()
        cls._by_folder.clear()
        if not cls.active:
            return  # `flake8 --select E,W,F`: no index, no configuration read, nothing checked
        from .django_api import parse_target
        from .rules import OFF_BY_DEFAULT

        cls.target_version = options.async_lint_target_version
        if cls.target_version:
            try:
                parse_target(cls.target_version)
            except ValueError as error:
                raise SystemExit(f"flake8: --async-lint-target-version: {error}") from None
        named = [*(options.select or ()), *(getattr(options, "extend_select", None) or ())]
        cls.explicitly_selected = frozenset(
            c.upper() for c in named if c.upper() in OFF_BY_DEFAULT
        )
        cls.paths = tuple(p for p in (options.filenames or ()) if p != "-" and os.path.exists(p))
        # Built now, in flake8's main process, the project is inherited by the workers flake8
        # forks for --jobs rather than built again in each of them; and a configuration error
        # is one line, here, rather than a traceback from every worker.
        try:
            cls._project(os.path.abspath(cls.paths[0]) if cls.paths else os.path.join(os.getcwd(), "-"))
        except AsyncLintConfigError as error:
            raise SystemExit(f"flake8: async-lint: {error}") from None
        # The index, the rules and the modules loaded for them live as long as the process:
        # set apart from what the cyclic collector walks, each of its full collections (run
        # as flake8 allocates) costs what it costs without the plugin.
        gc.freeze()

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        if not self.active or not isinstance(self.tree, ast.Module):
            return
        from .engine import lint_source, too_deep_diagnostic
        from .source import SourceFile

        path = os.path.abspath(self.filename)
        loaded = self._project(path)
        project = loaded.project
        enabled = project.enabled_for(path)
        if not enabled:
            return
        source = SourceFile(path, "".join(self.lines))
        try:
            diagnostics = lint_source(
                source, loaded.model.index, project.settings(enabled), project.dispatch(enabled), self.tree,
                loaded.functions,
            )
        except RecursionError:
            diagnostics = [too_deep_diagnostic(path)]
        for d in diagnostics:
            if d.code in enabled:
                row, column = source.row_col(d.start) if source.text else (1, 1)
                # flake8 columns are 0-based (it adds 1 when it prints them).
                yield row, column - 1, f"{d.code} {d.message}", type(self)

    # -- the project, once per process --------------------------------------------------

    @classmethod
    def _project(cls, path: str) -> LoadedProject:
        """The project as `async-lint check` would see it given the same paths as flake8: its
        configuration is found from those paths (for a file alone, from its folder)."""
        folder = os.path.dirname(path) if os.path.exists(path) else os.getcwd()
        paths = list(cls.paths) or [folder]
        lookup = "\0".join(paths)
        loaded = cls._by_folder.get(lookup)
        if loaded is None:
            from .project_setup import Overrides, Project, SetupError

            sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
            overrides = Overrides(target_version=cls.target_version, extend_select=tuple(cls.explicitly_selected))
            try:
                project = Project.load(paths, overrides)
            except SetupError as error:
                raise AsyncLintConfigError(str(error)) from None
            key = str(project.config.path or project.config.root)
            loaded = cls._projects.get(key)
            if loaded is None:
                loaded = cls._projects[key] = LoadedProject(project, cls._model(project))
            cls._by_folder[lookup] = loaded
        return loaded

    @classmethod
    def _model(cls, project: Project) -> ProjectModel:
        """The project model over the project root and the paths flake8 was given, as
        `async-lint check` builds it, through its cache (`.async_lint_cache/` in the root)."""
        from .cache import Cache
        from .runner import Options, Run

        config = project.config
        given = [p for p in cls.paths if os.path.isdir(p) or p.endswith((".py", ".pyi"))]
        if given:
            # flake8 checks the paths it is given whatever `.gitignore` says: their models count.
            config = replace(config, respect_gitignore=False)
        options = Options([str(config.root), *given], project.target, project.enabled, reach=project.reach)
        return Run(options, config, cache=Cache(config.root)).project_model()


def _asl_selected(options) -> bool:
    """Whether flake8's selection can report an ASL code: `--select`/`--extend-select` entries
    are prefixes (`A`, `ASL`, `ASL1`, `ASL101`); without `--select`, flake8 selects every
    plugin's own code (ASL) as well as its defaults."""
    select = getattr(options, "select", None)
    selectors = [*(getattr(options, "extend_select", None) or ())]
    if select is None:
        selectors += [*(getattr(options, "extended_default_select", None) or ("ASL",))]
    else:
        selectors += select
    return any(s.upper().startswith("ASL") or "ASL".startswith(s.upper()) for s in selectors if s)
