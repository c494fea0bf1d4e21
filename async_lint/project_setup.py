"""One set-up for every way async-lint runs (the CLI, the flake8 plugin, `async-lint twins`,
the tests): the configuration, the target Django version and the enabled rules (`Project`), and
the project beyond one file (`ProjectModel`: the model index, the modules by name, and the
project's functions that rules follow into other modules)."""

from __future__ import annotations

import ast
import os
from importlib.machinery import PathFinder
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .config import Config, ConfigError, detect_target_range, glob_match, load_config
from .django_api import Version
from .engine import Dispatch, LintSettings, helper_hazards, parse
from .functions import ProjectFunctions
from .imports import module_name_for
from .project import ProjectIndex, imported_models
from .rules import OFF_BY_DEFAULT, codes as rule_codes
from .source import SourceFile, UnreadableSource


class SetupError(Exception):
    """A configuration or option the run cannot start with; the message is for the user."""


class UnknownSelector(ValueError):
    pass


@dataclass(frozen=True)
class Overrides:
    """What the command line (or flake8's options) says over the configuration."""

    config_file: str | None = None
    target_version: str | None = None
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    respect_gitignore: bool | None = None
    exclude: tuple[str, ...] | None = None  # replaces the configured `exclude`
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (glob, codes), added


@dataclass
class Project:
    config: Config
    target: Version
    target_origin: str  # where the target version was found, for the summary line
    enabled: frozenset[str]
    reach: Version | None = None  # the newest Django it runs on (None: the target alone)
    _dispatches: dict[frozenset[str], Dispatch] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, paths: Iterable[str], overrides: Overrides = Overrides()) -> "Project":
        """The project the paths belong to, as configured; SetupError says what is wrong."""
        try:
            config = load_config(list(paths), overrides.config_file)
        except ConfigError as error:
            raise SetupError(str(error)) from None
        if overrides.respect_gitignore is not None:
            config.respect_gitignore = overrides.respect_gitignore
        if overrides.exclude is not None:
            config.exclude = list(overrides.exclude)
        config.extend_exclude = [*config.extend_exclude, *overrides.extend_exclude]
        for pattern, codes in overrides.per_file_ignores:
            config.per_file_ignores[pattern] = [*config.per_file_ignores.get(pattern, []), *codes]
        try:
            found = detect_target_range(config, overrides.target_version)
        except ValueError as error:
            raise SetupError(f"--target-version: {error}") from None
        select = list(overrides.select) if overrides.select is not None else config.select
        try:
            enabled = resolve_codes([*select, *config.extend_select, *overrides.extend_select], [*config.ignore, *overrides.ignore])
        except UnknownSelector as error:
            named_by_config = str(error) in (*config.select, *config.extend_select, *config.ignore)
            where = f" in {config.path}" if named_by_config and config.path else ""
            raise SetupError(f"unknown rule selector `{error}`{where} (see `async-lint rules`)") from None
        return cls(config, found.version, found.origin, enabled, found.newest)

    def settings(self, enabled: frozenset[str] | None = None) -> LintSettings:
        return LintSettings(self.target, self.enabled if enabled is None else enabled, self.config.twins, self.reach)

    def dispatch(self, enabled: frozenset[str] | None = None) -> Dispatch:
        """The rules of `enabled` (default: the project's) by node type, built once."""
        codes = self.enabled if enabled is None else enabled
        if codes not in self._dispatches:
            from .rules import RULES

            self._dispatches[codes] = Dispatch(codes, RULES)
        return self._dispatches[codes]

    def enabled_for(self, path: str) -> frozenset[str]:
        return enabled_for(path, self.enabled, self.config)


@dataclass
class ProjectModel:
    """What rules know beyond the file they check: the model index, the project's modules by
    dotted name, and their text (read from disk, or given in memory)."""

    index: ProjectIndex
    module_paths: dict[str, str]
    texts: dict[str, str] | None = None  # None: modules are read from disk when needed
    trees: dict[str, ast.Module | None] = field(default_factory=dict)  # parsed already

    @classmethod
    def of_files(cls, paths: Iterable[str], twin_patterns: tuple[str, ...]) -> "ProjectModel":
        """Over these files, read from disk (those that cannot be read or parsed left out),
        and the models of installed packages they import."""
        paths = list(paths)
        texts: dict[str, str] = {}

        def imported_by(files: list[str]) -> set[str]:
            for path in files:
                source = read_source(path) if path not in texts else None
                if source is not None:
                    texts[path] = source.text
            return {m for p in files if "models" in texts.get(p, "") for m in imported_models(texts[p])}

        installed_models(paths, imported_by, module_paths(paths))  # read into `texts` as found
        model = cls.of_texts(texts, twin_patterns)
        model.texts = None  # later reads go to the disk, as a run's do
        return model

    @classmethod
    def of_texts(cls, texts: dict[str, str], twin_patterns: tuple[str, ...]) -> "ProjectModel":
        model = cls(ProjectIndex(), module_paths(texts), dict(texts))

        def parse_path(path: str):
            # Not kept: the index holds what it needs, and most of these trees are never read
            # again (a run keeps those of the files it checks).
            tree = parse(SourceFile(path, texts[path]))
            return (tree, *module_name_for(path)) if isinstance(tree, ast.Module) else None

        model.index = ProjectIndex.build(texts, parse_path, twin_patterns)
        return model

    def read(self, path: str) -> SourceFile | None:
        if self.texts is not None:
            return SourceFile(path, self.texts[path]) if path in self.texts else None
        return read_source(path)

    def parse(self, source: SourceFile) -> ast.Module | None:
        """The file's tree: the one the run parsed already, else parsed now and not kept here
        (the project's functions keep the files they use, a bounded number)."""
        tree = self.trees.get(source.path) or parse(source)
        return tree if isinstance(tree, ast.Module) else None

    def functions(self, target: Version, dispatch: Dispatch) -> ProjectFunctions:
        """The project's functions, followed on demand (one per run, or per worker)."""
        return ProjectFunctions(self.index, self.module_paths, self.read, self.parse, helper_hazards(target, dispatch))

    def __getstate__(self):
        # Sent to a spawned worker: trees are cheaper to parse again than to pickle.
        return self.index, self.module_paths, self.texts

    def __setstate__(self, state) -> None:
        self.index, self.module_paths, self.texts = state
        self.trees = {}


def installed_models(
    files: list[str], imported_by: Callable[[list[str]], set[str]], project_modules: Iterable[str]
) -> list[str]:
    """The files of the installed packages' `models` modules that `files` import (by absolute
    name; `imported_by(paths)` says which), and those these import in turn, three rounds deep.
    The project's own packages are left out."""
    known = set(project_modules)
    packages = {module.split(".")[0] for module in known}
    found: list[str] = []
    located: set[str] = set()
    current = files
    for _ in range(3):
        wanted = {m for m in imported_by(current) - located if m not in known and m.split(".")[0] not in packages}
        located |= wanted
        current = [p for m in sorted(wanted) for p in installed_module_files(m) if p not in found]
        if not current:
            break
        found += current
    return found


def installed_module_files(module: str) -> list[str]:
    """The source files of an installed module, found on `sys.path` without importing it (or
    its parents): the module's file, or every file under a package's folder but its tests and
    migrations.  Empty when it is not installed."""
    parts = module.split(".")
    locations = None
    spec = None
    for depth in range(1, len(parts) + 1):
        try:
            spec = PathFinder.find_spec(".".join(parts[:depth]), locations)
        except (ImportError, ValueError, OSError):
            return []
        if spec is None:
            return []
        locations = spec.submodule_search_locations
        if depth < len(parts) and locations is None:
            return []
    if locations is None:
        return [spec.origin] if spec.origin and spec.origin.endswith(".py") else []
    files = []
    for location in locations:
        for folder, folders, names in os.walk(location):
            folders[:] = sorted(f for f in folders if f not in ("tests", "migrations", "__pycache__"))
            files.extend(os.path.join(folder, n) for n in sorted(names) if n.endswith(".py"))
    return files


def read_source(path: str) -> SourceFile | None:
    try:
        with open(path, "rb") as handle:
            return SourceFile.from_bytes(path, handle.read())
    except (OSError, UnreadableSource):
        return None


def module_paths(paths: Iterable[str]) -> dict[str, str]:
    """Dotted module name → file; a name two files claim (scripts outside packages) is left
    out, rather than guessed."""
    found: dict[str, str | None] = {}
    for path in paths:
        module = module_name_for(path)[0]
        found[module] = None if module in found else path
    return {module: path for module, path in found.items() if path is not None}


def resolve_codes(select: list[str], ignore: list[str]) -> frozenset[str]:
    """Rule codes from ruff-style selectors: `ASL` (all), `ASL1` (a family), `ASL101` (one)."""
    known = rule_codes()
    for selector in (*select, *ignore):
        if selector != "ALL" and not any(code.startswith(selector.upper()) for code in known):
            raise UnknownSelector(selector)

    def matches(code: str, selectors: list[str]) -> str | None:
        hits = [s.upper() for s in selectors if s == "ALL" or code.startswith(s.upper())]
        return max(hits, key=len) if hits else None

    codes = set()
    for code in known:
        selected = matches(code, select)
        if selected is None:
            continue
        # Rules that are off by default need to be named (as a code, not a family).
        if code in OFF_BY_DEFAULT and selected != code:
            continue
        ignored = matches(code, ignore)
        if ignored is None or len(ignored) < len(selected):
            codes.add(code)
    return frozenset(codes)


def enabled_for(path: str, enabled: frozenset[str], config: Config) -> frozenset[str]:
    """The enabled codes minus the file's `per-file-ignores`."""
    relative = _relative(path, config.root)
    ignored = [
        code
        for pattern, codes in config.per_file_ignores.items()
        if glob_match(relative, pattern) or glob_match(os.path.basename(path), pattern)
        for code in codes
    ]
    if not ignored:
        return enabled
    return frozenset(c for c in enabled if not any(c.startswith(i.upper()) for i in ignored))


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()
