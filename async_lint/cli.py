"""`async-lint`: the command line, with ruff's conventions (check/--fix/--unsafe-fixes/--diff,
--output-format, exit codes 0 no findings left, 1 findings, 2 usage/config/internal error)."""

from __future__ import annotations

import argparse
import difflib
import importlib
import io
import os
import sys

from . import __version__
from .cache import CACHE_DIR, Cache, clean as clean_cache
from .config import ConfigError, load_config, required_python
from .diagnostics import SYNTAX_ERROR
from .discovery import MissingPath
from .django_api import format_version
from .output import FORMATS, display_path, summary_lines
from .project_setup import Overrides, Project, SetupError
from .runner import Options, Run

SUBCOMMANDS = ("check", "clean", "migrate", "rule", "rules", "twins")


def _codes(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The parser, and each subcommand's own (for its usage in an error)."""
    parser = argparse.ArgumentParser(
        prog="async-lint",
        description="Find sync-only Django calls that would run on the event loop, and fix them.",
    )
    parser.add_argument("--version", action="version", version=f"async-lint {__version__}")
    commands = parser.add_subparsers(dest="command")

    check = commands.add_parser("check", help="check files (the default command)")
    check.add_argument("paths", nargs="*", default=["."], help="files or folders (default: .)")
    check.add_argument("--fix", action="store_true", help="apply safe fixes")
    check.add_argument("--unsafe-fixes", action="store_true", help="also apply fixes that may change behaviour")
    check.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    check.add_argument("--select", type=_codes, help="rule codes or prefixes to enable (default: ASL)")
    check.add_argument("--extend-select", type=_codes, default=[], help="codes to enable on top of the selection")
    check.add_argument("--ignore", type=_codes, default=[], help="rule codes or prefixes to disable")
    check.add_argument("--target-version", metavar="X.Y", help="Django version the fixes may use")
    check.add_argument("--output-format", choices=FORMATS, default="full", help="default: full (colour only on a terminal)")
    check.add_argument("--statistics", action="store_true", help="print the number of findings per rule instead of each finding")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings remain")
    check.add_argument(
        "--exit-non-zero-on-fix", action="store_true", help="exit 1 when a fix was applied, even if nothing is left"
    )
    check.add_argument("--show-fixes", action="store_true", help="with --fix: list the fixes applied, per file and rule")
    check.add_argument(
        "--add-noqa", action="store_true", help="add `# noqa: ASLnnn` to each line with a finding (adopting on a large codebase)"
    )
    check.add_argument("-q", "--quiet", action="store_true", help="print the findings only, no summary")
    check.add_argument("--silent", action="store_true", help="print nothing; the exit code says")
    check.add_argument("-o", "--output-file", metavar="FILE", help="write the report to FILE instead of standard output")
    check.add_argument("--exclude", type=_codes, metavar="GLOBS", help="paths to leave out (replaces the configured exclude)")
    check.add_argument("--extend-exclude", type=_codes, default=[], metavar="GLOBS", help="paths to leave out besides `exclude`")
    check.add_argument(
        "--per-file-ignores", action="append", default=[], metavar="GLOB:CODES",
        help="codes to ignore in matching files, e.g. `tests/*:ASL101,ASL102` (repeatable)",
    )
    check.add_argument("--config", metavar="FILE", help="read the settings from this file ([tool.async-lint], or async-lint.toml's top-level keys)")
    check.add_argument(
        "--stdin-filename", metavar="PATH",
        help="with `-` as the path: lint standard input as this file (its config, target and project apply)",
    )
    check.add_argument(
        "--no-respect-gitignore", dest="respect_gitignore", action="store_false", default=None,
        help="check files that .gitignore files exclude",
    )
    check.add_argument(
        "--no-cache", dest="cache", action="store_false",
        help=f"neither read nor write the cache ({CACHE_DIR}/ in the project root)",
    )

    clean = commands.add_parser("clean", help=f"remove the cache ({CACHE_DIR}/ in the project root)")
    clean.add_argument("paths", nargs="*", default=["."], help="a path in the project (default: .)")
    clean.add_argument("--config", metavar="FILE", help="the settings file (the project root is still the paths' own)")

    migrate = commands.add_parser("migrate", help="make sync functions async, with their Django calls (FILE::NAME)")
    migrate.add_argument("targets", nargs="+", metavar="FILE::NAME", help="a function, Class.method or class-based view of a file")
    migrate.add_argument("--diff", action="store_true", help="print the changes as a unified diff; write nothing")
    migrate.add_argument("--target-version", metavar="X.Y", help="Django version the async API is taken from")
    migrate.add_argument("--config", metavar="FILE", help="the settings file (async-lint.toml or pyproject.toml)")

    rule = commands.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code", nargs="?")
    rule.add_argument("--all", action="store_true", help="every rule's documentation")
    rules = commands.add_parser("rules", help="list every rule")
    rules.add_argument("--output-format", choices=("text", "json"), default="text")
    twins = commands.add_parser(
        "twins", help="list sync/async twin pairs; with --check, exit 1 when any diverge (ASL501)"
    )
    twins.add_argument("paths", nargs="*", default=["."], help="files or folders (default: .)")
    twins.add_argument("--check", action="store_true", help="print diverging pairs with a diff; exit 1 if any")
    twins.add_argument("--diff", action="store_true", help="also print the diff of every diverging pair when listing")
    twins.add_argument("--config", metavar="FILE", help="read the settings from this file ([tool.async-lint], or async-lint.toml's top-level keys)")
    return parser, commands.choices


# Inference follows method chains recursively; Django code has chains far longer than the
# default limit allows (`qs.filter(...)` repeated hundreds of times in generated code).
RECURSION_LIMIT = 6000


def main(argv: list[str] | None = None) -> int:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in SUBCOMMANDS and not argv[0].startswith("-") and not os.path.lexists(argv[0]):
        close = difflib.get_close_matches(argv[0], SUBCOMMANDS, n=1)
        if close:
            return _error(f"unknown command `{argv[0]}`; did you mean `{close[0]}`? (commands: {', '.join(SUBCOMMANDS)})")
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "check")
    parser, commands = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # The subcommand's own usage, as a wrong option of `check` concerns `check`.
        commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    # Findings quote the user's source: a character the output encoding lacks is escaped.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        if args.command == "rule":
            return _print_rule(args.code, args.all)
        if args.command == "rules":
            return _print_rules(args.output_format)
        if args.command == "twins":
            from . import twins_cli

            return twins_cli.run(args)
        if args.command == "clean":
            return _clean(args)
        if args.command == "migrate":
            return _migrate(args)
        return _check(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader stopped early (`async-lint | head`): nothing to report.  Stdout now goes
        # nowhere, so that the interpreter's final flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as error:  # a bug in async-lint: say so plainly, never a traceback
        if os.environ.get("ASYNC_LINT_DEBUG"):
            raise
        print(f"async-lint: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        print("Set ASYNC_LINT_DEBUG=1 for a traceback, and please report it.", file=sys.stderr)
        return 2


def _error(message: str) -> int:
    print(f"async-lint: error: {message}", file=sys.stderr)
    return 2


def _migrate(args: argparse.Namespace) -> int:
    from . import migrate

    try:
        paths = [migrate.parse_target(target)[0] for target in args.targets]
        project = Project.load(paths, Overrides(config_file=args.config, target_version=args.target_version))
    except (migrate.MigrationError, SetupError) as error:
        return _error(str(error))
    refused = 0
    for target in args.targets:
        try:
            migrated = migrate.migrate(project, target)
        except migrate.MigrationError as error:
            print(f"async-lint: cannot migrate {target}: {error}", file=sys.stderr)
            refused += 1
            continue
        if args.diff:
            sys.stdout.write(migrate.diff(migrated))
        else:
            migrate.write(migrated)
            print(f"Migrated `{migrated.name}` in {display_path(migrated.path)} (Django {format_version(project.target)}).")
        for caller in migrated.callers:
            print(f"  {caller}: calls `{migrated.name}` without `await`: it now returns a coroutine")
        for call in migrated.unfollowed:
            print(f"  {call} was not followed: if it queries the database or blocks, it now does so on the event loop")
    return 1 if refused else 0


def _clean(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.paths, args.config)
    except ConfigError as error:
        return _error(str(error))
    try:
        removed = clean_cache(config.root)
    except OSError as error:
        return _error(f"cannot remove {config.root / CACHE_DIR}: {error.strerror or error}")
    print(f"Removed {removed}" if removed else f"No cache to remove ({config.root / CACHE_DIR} does not exist)")
    return 0


def _check(args: argparse.Namespace) -> int:
    jobs = os.environ.get("ASYNC_LINT_JOBS", "").strip()
    if jobs and not (jobs.isdigit() and int(jobs) > 0):
        return _error(f"ASYNC_LINT_JOBS must be a whole number of worker processes (1 or more), not {jobs!r}")
    stdin = None
    if "-" in args.paths:
        if len(args.paths) != 1:
            return _error("`-` (standard input) cannot be checked together with other paths")
        args.paths = [args.stdin_filename or "stdin.py"]
        stdin = sys.stdin.buffer.read()
    elif args.stdin_filename:
        return _error("--stdin-filename needs `-` as the path to check")
    if args.add_noqa and (args.fix or args.diff or stdin is not None):
        return _error("--add-noqa cannot be combined with --fix, --diff or standard input")
    try:
        per_file_ignores = tuple(_per_file_ignore(value) for value in args.per_file_ignores)
    except ValueError as error:
        return _error(str(error))
    overrides = Overrides(
        config_file=args.config,
        target_version=args.target_version,
        select=tuple(args.select) if args.select is not None else None,
        extend_select=tuple(args.extend_select),
        ignore=tuple(args.ignore),
        respect_gitignore=args.respect_gitignore,
        exclude=tuple(args.exclude) if args.exclude is not None else None,
        extend_exclude=tuple(args.extend_exclude),
        per_file_ignores=per_file_ignores,
    )
    # A buffer's file need not exist yet: its folder (or the nearest that exists) finds the config.
    config_paths = [_existing(p) for p in args.paths] if stdin is not None else args.paths
    try:
        project = Project.load(config_paths, overrides)
    except SetupError as error:
        return _error(str(error))
    config = project.config
    options = Options(
        paths=args.paths,
        target=project.target,
        enabled=project.enabled,
        fix=args.fix,
        unsafe_fixes=args.unsafe_fixes,
        diff=args.diff,
        reach=project.reach,
        stdin=stdin,
    )
    try:
        with progress_bar() as progress:
            cache = Cache(config.root) if args.cache and stdin is None and not (options.fix or options.diff) else None
            report = Run(options, config, progress, cache).execute()
    except MissingPath as error:
        return _error(f"no such file or directory: {error}")
    project_python = required_python(config)
    unparsed = any(d.code == SYNTAX_ERROR for d in report.diagnostics)
    if unparsed and project_python and project_python > sys.version_info[:2]:
        running = f"{sys.version_info.major}.{sys.version_info.minor}"
        print(
            f"async-lint: warning: the project requires Python >={project_python[0]}.{project_python[1]} but "
            f"async-lint runs on {running}: files using newer syntax cannot be parsed (ASL901). "
            "Install async-lint into the project's Python.",
            file=sys.stderr,
        )
    if args.add_noqa:
        return _add_noqa(report)
    opened = None
    try:
        if args.silent:
            opened = open(os.devnull, "w")
        elif args.output_file:
            opened = open(args.output_file, "w", encoding="utf-8")
    except OSError as error:
        return _error(f"cannot write {args.output_file}: {error.strerror or error}")
    printing_to = sys.stdout
    sys.stdout = opened or printing_to
    try:
        return _report(args, report, project, stdin)
    finally:
        sys.stdout = printing_to
        if opened is not None:
            opened.close()


def _report(args: argparse.Namespace, report, project: Project, stdin: bytes | None) -> int:
    config, target_origin = project.config, project.target_origin
    summary = not (args.quiet or args.silent)
    if report.files_checked == 0:
        # As ruff does: an empty run is not a clean bill of health.
        hint = " (.gitignore files exclude them? see --no-respect-gitignore)" if config.respect_gitignore else ""
        print(f"async-lint: warning: no Python files found under the given paths{hint}", file=sys.stderr)

    if stdin is not None and args.fix and not args.diff:
        # As ruff does: the fixed source on standard output, what is left on standard error.
        before_after = next(iter(report.changes.values()), None)
        sys.stdout.write(before_after[1] if before_after else stdin.decode("utf-8", "surrogateescape"))
        sys.stdout.flush()
        sys.stdout = sys.stderr
    if args.diff:
        for path, (before, after) in sorted(report.changes.items()):
            shown = display_path(path)
            for line in difflib.unified_diff(_lines(before), _lines(after), f"a/{shown}", f"b/{shown}"):
                sys.stdout.write(line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n")
        fixed = sum(1 for _ in report.changes)
        print(f"Would fix {report.fixes_applied} error{'s' * (report.fixes_applied != 1)} in {fixed} file{'s' * (fixed != 1)}." if fixed else "No fixes available.", file=sys.stderr)
        return 1 if report.changes and not args.exit_zero else 0

    output_format = args.output_format
    if args.statistics:
        from .output import statistics

        render = statistics.render_json if output_format == "json" else statistics.render
        text = render(report, args.unsafe_fixes)
        if text:
            print(text)
        if output_format != "json" and summary:
            for line in summary_lines(report.diagnostics, report.fixes_applied, args.unsafe_fixes):
                print(line)
    elif output_format in MACHINE_FORMATS:
        text = importlib.import_module(f".output.{MACHINE_FORMATS[output_format]}", __package__).render(
            report, args.unsafe_fixes
        )
        if text:
            print(text)
    else:
        if output_format == "full":
            from rich.console import Console

            from .output import full

            full.render(report, args.unsafe_fixes, Console(highlight=False, soft_wrap=True))
        else:
            from .output import concise

            text = concise.render(report, args.unsafe_fixes)
            if text:
                print(text)
        if args.show_fixes and report.fixed:
            _print_fixes(report)
        if summary:
            for line in summary_lines(report.diagnostics, report.fixes_applied, args.unsafe_fixes):
                print(line)
        if output_format == "full" and report.diagnostics and summary:
            print(f"Target Django {format_version(project.target)} ({target_origin}).")
    if args.exit_non_zero_on_fix and report.fixes_applied:
        return 1
    return 1 if report.diagnostics and not args.exit_zero else 0


def _print_fixes(report) -> None:
    """ruff's `--show-fixes`: what was fixed, per file and rule."""
    from .rules import RULES

    total = sum(sum(codes.values()) for codes in report.fixed.values())
    print(f"Fixed {total} error{'s' * (total != 1)}:")
    for path, codes in sorted(report.fixed.items()):
        print(f"- {display_path(path)}:")
        for code, count in sorted(codes.items()):
            rule = RULES.get(code)
            print(f"    {count} × {code} ({rule.name if rule else code})")


def _add_noqa(report) -> int:
    from .add_noqa import with_noqa
    from .runner import write_atomic

    by_path: dict[str, list] = {}
    for diagnostic in report.diagnostics:
        if not diagnostic.code.startswith("ASL9"):  # the tool's own: unparseable, unreadable
            by_path.setdefault(diagnostic.path, []).append(diagnostic)
    added = skipped = 0
    for path, diagnostics in sorted(by_path.items()):
        source = report.sources[path]
        text, lines, left = with_noqa(source, diagnostics)
        skipped += left
        if lines:
            try:
                write_atomic(path, source.to_bytes(text))
            except (OSError, UnicodeEncodeError) as error:
                print(f"async-lint: warning: cannot write {display_path(path)}: {getattr(error, 'strerror', None) or error}", file=sys.stderr)
                continue
            added += lines
    print(f"Added {added} noqa directive{'s' * (added != 1)}.")
    if skipped:
        print(
            f"async-lint: warning: {skipped} finding line{'s' * (skipped != 1)} end inside a string or a backslash "
            "continuation and got no noqa",
            file=sys.stderr,
        )
    return 0


def _per_file_ignore(value: str) -> tuple[str, tuple[str, ...]]:
    pattern, colon, codes = value.rpartition(":")
    if not colon or not pattern or not _codes(codes):
        raise ValueError(f"--per-file-ignores expects GLOB:CODES (e.g. `tests/*:ASL101`), got {value!r}")
    return pattern, tuple(_codes(codes))


# Formats for programs: exactly the document, no summary lines.
# Output modules, imported by the run that prints them.
MACHINE_FORMATS = {
    "json": "json", "json-lines": "json_lines", "junit": "junit", "github": "github", "sarif": "sarif", "gitlab": "gitlab",
}
# A run over fewer files is over before a bar would be worth drawing.
PROGRESS_MIN_FILES = 50


class progress_bar:
    """A rich progress bar on stderr while files are checked, only when stderr is a terminal
    and the run has many files; it is cleared when done.  Used as Run's `progress` callback."""

    def __init__(self):
        self.bar = None
        self.task = None
        self.enabled = sys.stderr is not None and sys.stderr.isatty()

    def __enter__(self):
        return self

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < PROGRESS_MIN_FILES:
            return
        if self.bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("Checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(stderr=True), transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("check", total=total)
        self.bar.update(self.task, completed=done)

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.stop()


def _existing(path: str) -> str:
    """`path`, or its nearest folder that exists."""
    while path and not os.path.exists(path):
        parent = os.path.dirname(os.path.abspath(path))
        if parent == os.path.abspath(path):
            break
        path = parent
    return path or "."


def _lines(text: str) -> list[str]:
    """Lines as patch(1) sees them, ending at "\n" only (str.splitlines() also splits at form
    feeds and other separators), each keeping its own line ending."""
    return io.StringIO(text, newline="\n").readlines()


def _print_rule(code: str | None, every: bool) -> int:
    from .docs import rule_markdown
    from .rules import RULES

    if every:
        print("\n\n".join(rule_markdown(rule) for rule in RULES.values()))
        return 0
    if code is None:
        return _error("name a rule (`async-lint rule ASL101`) or give --all")
    rule = RULES.get(code.upper())
    if rule is None:
        return _error(f"unknown rule `{code}` (see `async-lint rules`)")
    print(rule_markdown(rule))
    return 0


def _print_rules(output_format: str = "text") -> int:
    from .rules import RULES

    if output_format == "json":
        import json

        rows = [
            {
                "code": code, "name": rule.name, "family": rule.family(), "fix": _fix_safety(rule),
                "default_enabled": rule.default_enabled, "url": rule.url(),
            }
            for code, rule in RULES.items()
        ]
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'code':<6}  family  {'fix':<11}  name")
    for code, rule in RULES.items():
        default = "" if rule.default_enabled else " (off by default)"
        print(f"{code}  {rule.family()}  {_fix_safety(rule):<11}  {rule.name}{default}")
    return 0


def _fix_safety(rule) -> str:
    """What the rule's examples show its fixes to be: safe, unsafe, or either."""
    safe = any(e.fixed is not None for e in rule.INVALID)
    unsafe = any(e.fixed is None and e.unsafe_fixed is not None for e in rule.INVALID)
    return "safe/unsafe" if safe and unsafe else "safe" if safe else "unsafe" if unsafe else "-"
