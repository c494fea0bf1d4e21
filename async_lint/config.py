"""`[tool.async-lint]` in pyproject.toml, and which Django version the fixes may target."""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from importlib.machinery import PathFinder
from dataclasses import dataclass, field
from pathlib import Path

from .django_api import ANY, Version, format_version, parse_target, parse_version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# The oldest Django with async QuerySet methods still in wide use; used when nothing says more,
# so that a fix never reaches for an API the project may not have.
DEFAULT_TARGET: Version = (4, 2, 0)

_LIST_OF_STRINGS = "a list of strings"
OPTIONS: dict[str, str] = {
    "select": _LIST_OF_STRINGS,
    "extend-select": _LIST_OF_STRINGS,
    "ignore": _LIST_OF_STRINGS,
    "exclude": _LIST_OF_STRINGS,
    "extend-exclude": _LIST_OF_STRINGS,
    "per-file-ignores": "a table of glob = [codes]",
    "target-version": 'a string such as "5.0"',
    "respect-gitignore": "true or false",
    "twins": "a table with `canonical` and `patterns` (ASL5)",
}
# `twins.<key>`: `twins.canonical = "async"` or a `[tool.async-lint.twins]` table (ASL5).
TWIN_OPTIONS: dict[str, str] = {
    "canonical": '"async" or "sync": the twin the other is regenerated from',
    "patterns": 'a list of name patterns with one "{}" for the sync name, such as ["a{}", "{}_async"]',
}


# How an async twin is named from its sync twin's name (leading underscores kept): `get` →
# `aget`, `fetch` → `fetch_async`, `send` → `async_send`.
DEFAULT_TWIN_PATTERNS: tuple[str, ...] = ("a{}", "{}_async", "async_{}")
CANONICAL_SIDES = ("async", "sync")


@dataclass(frozen=True)
class TwinSettings:
    """`twins.patterns` and `twins.canonical` from `[tool.async-lint]` (ASL5)."""

    patterns: tuple[str, ...] = DEFAULT_TWIN_PATTERNS
    # The side the other is regenerated from; None: only a per-pair marker can say.
    canonical: str | None = None


PROJECT_MARKERS = ("manage.py", ".git")


class ConfigError(Exception):
    """Bad configuration: reported as a message, exit code 2."""


@dataclass
class Config:
    root: Path
    path: Path | None = None
    select: list[str] = field(default_factory=lambda: ["ASL"])
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    extend_exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    target_version: Version | None = None
    twins: TwinSettings = field(default_factory=TwinSettings)
    pyproject: dict = field(default_factory=dict)


def glob_match(path: str, pattern: str) -> bool:
    """Whether a `/`-separated path matches a ruff-style glob: `*` as in fnmatch (crossing
    folders), and `**/` also standing for no folder at all, so `app/**/*.py` matches `app/x.py`."""
    if fnmatch.fnmatch(path, pattern):
        return True
    return any(
        glob_match(path, pattern[:i] + pattern[i + 3 :]) for i in range(len(pattern)) if pattern.startswith("**/", i)
    )


STANDALONE_CONFIGS = (".async-lint.toml", "async-lint.toml")


def find_config(start: Path) -> Path | None:
    """The nearest configuration, as ruff finds its own: in each folder from `start` up, a
    `.async-lint.toml` or `async-lint.toml` (top-level keys), else a pyproject.toml with a
    `[tool.async-lint]` table; without any, the nearest pyproject.toml."""
    nearest = None
    for directory in (start, *start.parents):
        for name in STANDALONE_CONFIGS:
            if (directory / name).is_file():
                return directory / name
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            nearest = nearest or candidate
            try:
                if "[tool.async-lint" in candidate.read_text(encoding="utf-8", errors="replace"):
                    return candidate
            except OSError:
                continue
    return nearest


def project_root(start: Path) -> Path:
    """Without a pyproject.toml: the nearest folder holding manage.py or .git above the checked
    paths, or holding the Django project whose app the checked code is (`backend/apiSystem/
    manage.py`, whose settings name `apps.cases`, for `backend/apps/cases/views.py`), else the
    folder that holds them.  The project index reads every Python file under the root, so it is
    never the current folder by default: a project checked from above it (`cd ~ && async-lint
    src/site`) must not make that `~`."""
    if "site-packages" in start.parts or "dist-packages" in start.parts:
        return start  # an installed package: the repository around the interpreter is not its project
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in PROJECT_MARKERS):
            return directory
        if directory != start and _project_beside(directory, start):
            return directory
    return start


_SETTINGS_MODULE = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")


def _project_beside(directory: Path, start: Path) -> bool:
    """Whether `directory` holds one Django project (a folder with manage.py) whose settings
    name the checked code's top folder as an app, that folder not being an installed package
    (a library checked out beside projects is not their app)."""
    top = start.relative_to(directory).parts[0]
    try:
        projects = [c for c in directory.iterdir() if c.is_dir() and (c / "manage.py").is_file()]
    except OSError:
        return False
    if len(projects) != 1 or not top.isidentifier():
        return False
    try:
        match = _SETTINGS_MODULE.search((projects[0] / "manage.py").read_text(encoding="utf-8", errors="replace"))
        if match is None:
            return False
        settings = projects[0].joinpath(*match.group(1).split("."))
        files = sorted(settings.rglob("*.py")) if settings.is_dir() else [settings.with_suffix(".py")]
        text = "".join(f.read_text(encoding="utf-8", errors="replace") for f in files if f.is_file())
        elsewhere = [p for p in sys.path if p and not Path(os.path.abspath(p)).is_relative_to(directory)]
        installed = PathFinder.find_spec(top, elsewhere) is not None
    except (OSError, ImportError, ValueError):
        return False
    return not installed and re.search(rf"""["']{re.escape(top)}(\.[\w.]+)?["']""", text) is not None


def load_config(paths: list[str], config_file: str | None = None) -> Config:
    """The configuration of the project the paths are in.  `config_file` (`--config`) only
    says where the settings are: the project root (whose files the model index reads, where
    the cache is kept, whose pyproject.toml names the Django and Python versions) stays the one
    the paths are in."""
    # Absolute but not resolved: the root must be spelled as the files found under it are,
    # also through a symlink, for relative patterns and the project index to apply.
    existing = [Path(os.path.abspath(p)) for p in paths if os.path.exists(p)] or [Path.cwd()]
    start = Path(os.path.commonpath([str(p if p.is_dir() else p.parent) for p in existing]))
    found = find_config(start)
    root = Path(os.path.abspath(found.parent)) if found is not None else project_root(start)
    if config_file is not None:
        settings_file = Path(config_file)
        if not settings_file.is_file():
            raise ConfigError(f"config file not found: {config_file}")
    else:
        settings_file = found
    if settings_file is None:
        return Config(root=root)
    data = _read_toml(settings_file)
    project_file = root / "pyproject.toml"
    pyproject = data if settings_file.name == "pyproject.toml" else _read_toml(project_file) if project_file.is_file() else {}
    config = Config(root=root, path=settings_file, pyproject=pyproject)
    table = _settings_table(settings_file, data, explicit=config_file is not None)
    for key, value in table.items():
        _apply(config, settings_file, key, value)
    return config


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None


def _settings_table(path: Path, data: dict, *, explicit: bool) -> dict:
    """async-lint's settings in a file: its `[tool.async-lint]` table, or, in a file other than
    pyproject.toml (`async-lint.toml`), its top-level keys."""
    tool = data.get("tool", {})
    if isinstance(tool, dict) and "async-lint" in tool:
        table = tool["async-lint"]
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.async-lint] must be a table")
        return table
    if path.name != "pyproject.toml":
        table = {k: v for k, v in data.items() if k != "tool"}
        if table or not explicit:
            return table
    if explicit:
        raise ConfigError(
            f"{path} has no async-lint settings: expected a [tool.async-lint] table"
            + ("" if path.name == "pyproject.toml" else ", or top-level keys as in async-lint.toml")
        )
    return {}


def _apply(config: Config, pyproject: Path, key: str, value: object) -> None:
    where = f"{pyproject}: [tool.async-lint] {key}"
    if key not in OPTIONS:
        known = ", ".join(OPTIONS)
        raise ConfigError(f"{pyproject}: unknown key `{key}` in [tool.async-lint] (known: {known})")
    expected = OPTIONS[key]
    if expected == _LIST_OF_STRINGS:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be {expected}, got {value!r}")
        setattr(config, key.replace("-", "_"), list(value))
    elif key == "per-file-ignores":
        if not isinstance(value, dict) or not all(
            isinstance(v, list) and all(isinstance(c, str) for c in v) for v in value.values()
        ):
            raise ConfigError(f"{where} must be {expected}, got {value!r}")
        config.per_file_ignores = {k: list(v) for k, v in value.items()}
    elif key == "respect-gitignore":
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be {expected}, got {value!r}")
        config.respect_gitignore = value
    elif key == "target-version":
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be {expected}, got {value!r}")
        try:
            config.target_version = parse_target(value)
        except ValueError as error:
            raise ConfigError(f"{where}: {error}") from None
    elif key == "twins":
        config.twins = _twin_settings(pyproject, value)


def _twin_settings(pyproject: Path, table: object) -> TwinSettings:
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.async-lint] twins must be {OPTIONS['twins']}, got {table!r}")
    settings = TwinSettings()
    for key, value in table.items():
        where = f"{pyproject}: [tool.async-lint] twins.{key}"
        if key not in TWIN_OPTIONS:
            known = ", ".join(f"twins.{k}" for k in TWIN_OPTIONS)
            raise ConfigError(f"{pyproject}: unknown key `twins.{key}` in [tool.async-lint] (known: {known})")
        if key == "canonical":
            if value not in CANONICAL_SIDES:
                raise ConfigError(f"{where} must be {TWIN_OPTIONS[key]}, got {value!r}")
            settings = TwinSettings(settings.patterns, value)
        elif key == "patterns":
            if not (
                isinstance(value, list)
                and value
                and all(isinstance(v, str) and v.count("{}") == 1 and v.replace("{}", "x").isidentifier() for v in value)
            ):
                raise ConfigError(f"{where} must be {TWIN_OPTIONS[key]}, got {value!r}")
            settings = TwinSettings(tuple(value), settings.canonical)
    return settings


# -- target version ------------------------------------------------------------------------

_DJANGO_REQUIREMENT = re.compile(
    r"""^\s*["']?django\s*(?:\[[^\]]*\])?\s*(?P<spec>(?:[<>=~!^]|\d)[^;#"']*)""", re.IGNORECASE
)
_LOWER_BOUND = re.compile(r"(?:(?:===?|>=|~=|\^|~)\s*|^\s*)(?P<version>\d+\.\d+(?:\.\d+)?)")


def lower_bound(spec: str) -> Version | None:
    """The lowest Django a requirement allows: `>=4.2,<5` → 4.2; `==5.0.3` → 5.0.3."""
    bounds = []
    for clause in spec.split(","):
        match = _LOWER_BOUND.search(clause.strip())
        if match:
            bounds.append(parse_version(match.group("version")))
    return min(bounds) if bounds else None


def _pins_in_pyproject(data: dict) -> list[str]:
    project = data.get("project", {})
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {})
    for name, value in poetry.items():
        if name.lower() == "django":
            version = value.get("version") if isinstance(value, dict) else value
            if isinstance(version, str):
                requirements.append(f"django {version}")
    return [r for r in requirements if isinstance(r, str)]


def _requirement_files(root: Path) -> list[Path]:
    found = sorted(root.glob("requirements*.txt")) + sorted(root.glob("requirements/*.txt"))
    return [p for p in found if p.is_file()]


def required_python(config: Config) -> tuple[int, int] | None:
    """The lowest Python the project supports (`requires-python = ">=3.12"`), if it says."""
    spec = config.pyproject.get("project", {}).get("requires-python")
    bound = lower_bound(spec) if isinstance(spec, str) else None
    return bound[:2] if bound else None


@dataclass(frozen=True)
class Target:
    """The Django versions a project runs on: `version`, the oldest, chooses the API a fix may
    use; `newest` (`ANY` without an upper bound) decides whether a hazard of newer versions
    applies (a library declaring `Django>=3.2` also runs on 5.2)."""

    version: Version
    origin: str
    newest: Version


def detect_target(config: Config, cli_value: str | None) -> tuple[Version, str]:
    """The target Django version and where it came from."""
    target = detect_target_range(config, cli_value)
    return target.version, target.origin


def detect_target_range(config: Config, cli_value: str | None) -> Target:
    """The oldest Django the project supports, where that came from, and the newest.  A
    version given (`--target-version`, `target-version`) or installed is the only one."""
    if cli_value:
        version = parse_target(cli_value)
        return Target(version, "--target-version", version)
    if config.target_version:
        return Target(config.target_version, f"target-version in {config.path}", config.target_version)
    candidates: list[tuple[str, str]] = [(r, str(config.path)) for r in _pins_in_pyproject(config.pyproject)]
    for path in _requirement_files(config.root):
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        candidates.extend((line, str(path)) for line in lines)
    candidates.extend(_setup_requirements(config.root))
    for requirement, origin in candidates:
        match = _DJANGO_REQUIREMENT.match(requirement)
        if match:
            bound = lower_bound(match.group("spec"))
            if bound is not None:
                return Target(bound, f"the Django requirement in {origin}", upper_bound(match.group("spec")) or ANY)
    try:
        from importlib.metadata import PackageNotFoundError, version

        release = re.match(r"\d+\.\d+(?:\.\d+)?", version("django"))
        if release:
            installed = parse_version(release.group())
            return Target(installed, "the installed Django", installed)
    except PackageNotFoundError:
        pass
    return Target(DEFAULT_TARGET, f"the default ({format_version(DEFAULT_TARGET)}; set target-version)", DEFAULT_TARGET)


_UPPER_BOUND = re.compile(r"^\s*(?P<operator><=|<|===?|~=)\s*(?P<version>\d+(?:\.\d+){0,2})")


def upper_bound(spec: str) -> Version | None:
    """The newest Django a requirement allows (None: no upper bound): `<5` → 4.99.99,
    `<=4.2` → 4.2.0, `==4.2.3` → 4.2.3, `~=4.2` → 4.99.99, `~=4.2.1` → 4.2.99."""
    newest = []
    for clause in spec.split(","):
        match = _UPPER_BOUND.match(clause)
        if not match:
            continue
        parts = [int(p) for p in match.group("version").split(".")]
        operator = match.group("operator")
        if operator == "<":
            parts += [0] * (3 - len(parts))
            major, minor, micro = parts
            if micro:
                newest.append((major, minor, micro - 1))
            elif minor:
                newest.append((major, minor - 1, 99))
            else:
                newest.append((major - 1, 99, 99))
        elif operator == "~=":
            if len(parts) >= 3:
                newest.append((parts[0], parts[1], 99))
            else:
                newest.append((parts[0], 99, 99))
        else:  # <=, ==, ===: that version exactly
            newest.append(tuple((parts + [0, 0])[:3]))
    return min(newest) if newest else None


def _setup_requirements(root: Path) -> list[tuple[str, str]]:
    """`install_requires` of setup.cfg and of a `setup(...)` call in setup.py, read without
    running either."""
    found: list[tuple[str, str]] = []
    cfg = root / "setup.cfg"
    if cfg.is_file():
        import configparser

        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(cfg, encoding="utf-8")
            value = parser.get("options", "install_requires", fallback="")
        except (configparser.Error, OSError, UnicodeDecodeError):
            value = ""
        found.extend((line.strip(), str(cfg)) for line in value.splitlines() if line.strip())
    script = root / "setup.py"
    if script.is_file():
        import ast

        try:
            tree = ast.parse(script.read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError, OSError):
            tree = None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.keyword) and node.arg == "install_requires" and isinstance(node.value, (ast.List, ast.Tuple)):
                found.extend(
                    (item.value, str(script))
                    for item in node.value.elts
                    if isinstance(item, ast.Constant) and isinstance(item.value, str)
                )
    return found
