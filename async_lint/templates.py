"""Django templates as the ORM sees them: what a template reads from its context.

A template rendered on the event loop runs the queries its variables need there: iterating a
lazy QuerySet, following `{{ book.author.name }}` through a relation the query did not load,
resolving `{{ user }}` from the auth context processor.  This module answers, for a template
name, which paths of context variables the template (with what it extends and includes)
reads: `("books", ITEM, "author", "name")` for `{% for b in books %}{{ b.author.name }}`.

Templates are found as Django's filesystem and app-directories loaders find them, in the
project's `templates/` folders (`TEMPLATES[...]["DIRS"]` is conventionally `BASE_DIR /
"templates"`, and each app's own); a name found in two folders with different text is not
guessed between.  They are tokenized with Django's own `Lexer` when Django is importable, else
with the same rule restated (`django/template/base.py`: `tag_re` splits text from `{% %}`,
`{{ }}` and `{# #}` tags, and a `{% verbatim %}` block stays text).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

ITEM = "[]"  # a path segment: each element of what the path before it iterates
PRINTED = "<printed>"  # the last segment of `{{ value }}` with no filter: str(value) is rendered
_MAX_DEPTH = 12  # extends/include nesting followed
_ONLY = "\0only"  # in an environment: `{% include ... only %}`, the outer context is not visible

Path_ = tuple[str, ...]

# -- tokens -------------------------------------------------------------------------------------

TEXT, VAR, BLOCK, COMMENT = "text", "var", "block", "comment"
_TAG = re.compile(r"({%.*?%}|{{.*?}}|{#.*?#})")


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, contents, line) of each token, as Django's Lexer makes them."""
    try:
        from django.template.base import Lexer, TokenType
    except ImportError:
        return list(_restated_lexer(text))
    kinds = {TokenType.TEXT: TEXT, TokenType.VAR: VAR, TokenType.BLOCK: BLOCK, TokenType.COMMENT: COMMENT}
    return [(kinds[t.token_type], t.contents, t.lineno) for t in Lexer(text).tokenize()]


def _restated_lexer(text: str) -> Iterator[tuple[str, str, int]]:
    in_tag, line, verbatim = False, 1, ""
    for part in _TAG.split(text):
        if part:
            kind, contents = TEXT, part
            if in_tag:
                start, inner = part[:2], part[2:-2].strip()
                if start == "{%":
                    if verbatim and inner != verbatim:
                        kind = TEXT
                    else:
                        if verbatim:
                            verbatim = ""
                        elif inner[:9] in ("verbatim", "verbatim "):
                            verbatim = "end" + inner
                        kind, contents = BLOCK, inner
                elif not verbatim:
                    kind, contents = (VAR if start == "{{" else COMMENT), inner
            yield kind, contents, line
            line += part.count("\n")
        in_tag = not in_tag


# Django's smart_split: split on spaces, keeping quoted phrases (with their quotes) together.
_BITS = re.compile(r"""((?:[^\s'"]*(?:(?:"(?:[^"\\]|\\.)*" | '(?:[^'\\]|\\.)*')[^\s'"]*)+) | \S+)""", re.VERBOSE)
# A filter expression's parts: `var|filter:arg|filter`, quotes kept together.
_FILTER_PARTS = re.compile(r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^|"'])+""")
_VARIABLE = re.compile(r"^[A-Za-z_][\w]*(?:\.[\w]+)*$")
_IF_OPERATORS = frozenset({"and", "or", "not", "in", "is", "==", "!=", "<", ">", "<=", ">="})
_LITERALS = frozenset({"True", "False", "None"})


def _split(contents: str) -> list[str]:
    return [m.group(0) for m in _BITS.finditer(contents)]


def _variables(expression: str) -> list[Path_]:
    """The variable paths a filter expression reads: `books|length` → [("books",)]; the
    filters' variable arguments too (`x|default:user.name`)."""
    parts = _FILTER_PARTS.findall(expression)
    if not parts:
        return []
    found = []
    head, *filters = parts
    found.extend(_path(head.strip()))
    for item in filters:
        _, _, argument = item.partition(":")
        found.extend(_path(argument.strip()))
    return found


def _path(text: str) -> list[Path_]:
    if not _VARIABLE.match(text) or text in _LITERALS:
        return []
    return [tuple(text.split("."))]


# -- the parsed template ----------------------------------------------------------------------


@dataclass
class Read:
    path: Path_
    line: int


@dataclass
class Loop:
    names: tuple[str, ...]
    iterable: Path_ | None
    line: int
    body: list = field(default_factory=list)


@dataclass
class Bind:
    """`{% with %}`, `{% blocktranslate with %}`: names bound to paths (None: not a path)."""

    names: dict[str, Path_ | None]
    body: list = field(default_factory=list)


@dataclass
class Block:
    name: str
    body: list = field(default_factory=list)


@dataclass
class Include:
    name: str | None  # None: a variable names it
    names: dict[str, Path_ | None]
    only: bool


@dataclass
class Parsed:
    body: list
    extends: str | None  # the parent template's name
    extends_unknown: bool  # `{% extends variable %}`
    blocks: dict[str, Block]


_ENDS = {"for": ("empty", "endfor"), "with": ("endwith",), "block": ("endblock",), "blocktrans": ("endblocktrans",), "blocktranslate": ("endblocktranslate",)}


def parse_template(text: str) -> Parsed:
    tokens = _tokens(text)
    position = 0
    extends: list[str | None] = []
    blocks: dict[str, Block] = {}

    def body(until: tuple[str, ...]) -> tuple[list, str | None]:
        nonlocal position
        items: list = []
        while position < len(tokens):
            kind, contents, line = tokens[position]
            position += 1
            if kind == VAR:
                items.extend(Read(p, line) for p in _variables(contents))
                if _path(contents.strip()):
                    items.append(Read((*_path(contents.strip())[0], PRINTED), line))
                continue
            if kind != BLOCK:
                continue
            bits = _split(contents)
            if not bits:
                continue
            tag, arguments = bits[0], bits[1:]
            if tag in until:
                return items, tag
            if tag == "comment":
                _skip_to("endcomment")
            elif tag == "for":
                items.append(_loop(arguments, line, body))
            elif tag in ("with", "blocktrans", "blocktranslate"):
                bound, reads = _bindings(arguments)
                items.extend(Read(p, line) for p in reads)
                inner, _ = body(_ENDS[tag])
                items.append(Bind(bound, inner))
            elif tag == "block" and arguments:
                inner, _ = body(("endblock",))
                block = Block(arguments[0], inner)
                blocks.setdefault(block.name, block)
                items.append(block)
            elif tag == "extends" and arguments:
                extends.append(_literal(arguments[0]))
            elif tag == "include" and arguments:
                rest = arguments[1:]
                names, reads = _bindings(rest[rest.index("with") + 1:]) if "with" in rest else ({}, [])
                items.extend(Read(p, line) for p in reads)
                items.append(Include(_literal(arguments[0]), names, "only" in rest))
                if _literal(arguments[0]) is None:
                    items.extend(Read(p, line) for p in _variables(arguments[0]))
            elif tag in ("load", "csrf_token", "templatetag", "now", "lorem", "verbatim", "endverbatim"):
                continue
            else:
                items.extend(Read(p, line) for p in _tag_arguments(tag, arguments))
        return items, None

    def _skip_to(end: str) -> None:
        nonlocal position
        while position < len(tokens):
            kind, contents, _ = tokens[position]
            position += 1
            if kind == BLOCK and contents.strip() == end:
                return

    items, _ = body(())
    parent = extends[0] if extends else None
    return Parsed(items, parent, bool(extends) and parent is None, blocks)


def _loop(arguments: list[str], line: int, body: Callable) -> Loop:
    # for x in y [reversed]; for x, y in z
    if "in" not in arguments:
        inner, _ = body(_ENDS["for"])
        return Loop((), None, line, inner)
    at = arguments.index("in")
    names = tuple(n for n in " ".join(arguments[:at]).replace(",", " ").split() if n)
    found = _variables(arguments[at + 1]) if at + 1 < len(arguments) else []
    inner, end = body(_ENDS["for"])
    if end == "empty":
        empty, _ = body(("endfor",))
        inner = [*inner, *empty]
    return Loop(names, found[0] if found else None, line, inner)


def _bindings(arguments: list[str]) -> tuple[dict[str, Path_ | None], list[Path_]]:
    """`a=b.c d=e|length` or the legacy `b.c as a`: the names bound to a context path (None
    when the value is filtered or a literal), and the paths the values read."""
    pairs = [(arguments[2], arguments[0])] if len(arguments) >= 3 and arguments[1] == "as" else []
    pairs += [(n, v) for n, equals, v in (bit.partition("=") for bit in arguments) if equals and n.isidentifier()]
    bound: dict[str, Path_ | None] = {}
    reads: list[Path_] = []
    for name, value in pairs:
        paths = _variables(value)
        reads.extend(paths)
        bound[name] = _path(value)[0] if _path(value) else None
    return bound, reads


def _tag_arguments(tag: str, arguments: list[str]) -> list[Path_]:
    """The variables a tag's arguments read; an `as name` tail only names a result."""
    if "as" in arguments:
        arguments = arguments[: arguments.index("as")]
    found: list[Path_] = []
    for bit in arguments:
        if tag in ("if", "elif") and bit in _IF_OPERATORS:
            continue
        if tag == "regroup" and bit == "by":
            break
        _, equals, value = bit.partition("=")
        found.extend(_variables(value if equals and "==" not in bit else bit))
    return found


def _literal(bit: str) -> str | None:
    if len(bit) >= 2 and bit[0] == bit[-1] and bit[0] in "'\"":
        return bit[1:-1]
    return None


# -- what a rendered template reads -------------------------------------------------------------


@dataclass(frozen=True)
class Reads:
    """The context paths a template reads, each with the first template file and line that
    reads it; `files`: every template file read (for the cache)."""

    paths: dict[Path_, tuple[str, int]]
    files: frozenset[str]

    def of(self, name: str) -> dict[Path_, tuple[str, int]]:
        return {p: where for p, where in self.paths.items() if p[0] == name}


class Templates:
    """The project's templates, found by name in its `templates/` folders, read on demand."""

    def __init__(self, folders: Iterable[Path], read: Callable[[Path], str | None]):
        self.folders = list(folders)
        self._read = read
        self._parsed: dict[str, tuple[str, Parsed] | None] = {}

    @classmethod
    def of_modules(cls, module_files: Iterable[str], read: Callable[[Path], str | None]) -> "Templates":
        """The `templates/` folders beside the project's Python files (apps) and one level up
        (the project root's `BASE_DIR / "templates"`)."""
        directories = {Path(f).parent for f in module_files}
        directories |= {d.parent for d in directories}
        return cls(sorted(d / "templates" for d in directories if (d / "templates").is_dir()), read)

    def find(self, name: str) -> tuple[str, Parsed] | None:
        """The template `name` (its file and parse), or None when it is not in the project,
        cannot be read, or two folders hold different templates of that name."""
        if name in self._parsed:
            return self._parsed[name]
        self._parsed[name] = None
        texts = {}
        for folder in self.folders:
            candidate = folder / name
            if candidate.is_file():
                text = self._read(candidate)
                if text is None:
                    return None
                texts.setdefault(text, str(candidate))
        if len(texts) == 1:
            (text, path), = texts.items()
            self._parsed[name] = (path, parse_template(text))
        return self._parsed[name]

    def reads(self, names: Iterable[str]) -> Reads | None:
        """What rendering the first of `names` that is found reads (None: none is found)."""
        for name in names:
            if self.find(name) is not None:
                collector = _Collector(self)
                collector.render(name, {}, 0)
                return Reads(collector.paths, frozenset(collector.files))
        return None

    def reads_text(self, text: str) -> Reads:
        """What an inline template (`Template("...")`) reads."""
        collector = _Collector(self)
        collector.walk(parse_template(text).body, {}, "<string>", [], 0)
        return Reads(collector.paths, frozenset(collector.files))


class _Collector:
    def __init__(self, templates: Templates):
        self.templates = templates
        self.paths: dict[Path_, tuple[str, int]] = {}
        self.files: set[str] = set()
        # Block name → its versions, the child's first, while an inheritance chain renders.
        self._overrides: dict[str, list[tuple[str, Block]]] = {}

    def render(self, name: str, env: dict, depth: int) -> None:
        """Render template `name`: its inheritance chain resolved, its blocks overridden."""
        chain: list[tuple[str, Parsed]] = []
        current: str | None = name
        while current is not None and len(chain) < _MAX_DEPTH:
            found = self.templates.find(current)
            if found is None:
                break
            self.files.add(found[0])
            chain.append((current, found[1]))
            current = found[1].extends
        if not chain:
            return
        root_file, root = chain[-1]
        if root.extends is not None or root.extends_unknown:
            # The top of the chain is not found: what the found templates' blocks read.
            for path, parsed in chain:
                for block in parsed.blocks.values():
                    self.walk(block.body, env, path, [], depth)
            return
        overrides: dict[str, list[tuple[str, Block]]] = {}
        for path, parsed in chain:
            for block_name, block in parsed.blocks.items():
                overrides.setdefault(block_name, []).append((path, block))
        self._overrides = overrides
        self.walk(root.body, env, root_file, None, depth)

    def walk(self, items: list, env: dict, file: str, supers: list | None, depth: int) -> None:
        for item in items:
            if isinstance(item, Read):
                self._read(item.path, env, file, item.line, supers, depth)
            elif isinstance(item, Loop):
                iterable = self._resolve(item.iterable, env) if item.iterable else None
                if item.iterable:
                    self._read(item.iterable, env, file, item.line, supers, depth)
                inner = dict(env)
                for name in item.names:
                    inner[name] = (*iterable, ITEM) if iterable and len(item.names) == 1 else None
                inner["forloop"] = None
                self.walk(item.body, inner, file, supers, depth)
            elif isinstance(item, Bind):
                inner = dict(env)
                inner.update({n: self._resolve(p, env) if p else None for n, p in item.names.items()})
                self.walk(item.body, inner, file, supers, depth)
            elif isinstance(item, Block):
                self._block(item, env, file, depth)
            elif isinstance(item, Include) and item.name is not None and depth < _MAX_DEPTH:
                bound = {n: self._resolve(p, env) if p else None for n, p in item.names.items()}
                saved = self._overrides
                self.render(item.name, {**bound, _ONLY: True} if item.only else {**env, **bound}, depth + 1)
                self._overrides = saved

    def _block(self, block: Block, env: dict, file: str, depth: int) -> None:
        versions = self._overrides.get(block.name) or [(file, block)]
        path, chosen = versions[0]
        self.walk(chosen.body, env, path, versions[1:], depth)

    def _read(self, path: Path_, env: dict, file: str, line: int, supers: list | None, depth: int) -> None:
        if path[:2] == ("block", "super"):
            if supers:
                path_, parent = supers[0]
                self.walk(parent.body, env, path_, supers[1:], depth)
            return
        resolved = self._resolve(path, env)
        if resolved is not None:
            self.paths.setdefault(resolved, (file, line))

    @staticmethod
    def _resolve(path: Path_, env: dict) -> Path_ | None:
        """The context path a template path stands for (None: a name bound to no context
        path, such as `forloop`)."""
        if path[0] in env:
            base = env[path[0]]
            return (*base, *path[1:]) if base is not None else None
        return None if env.get(_ONLY) else path


# -- the settings templates render with ----------------------------------------------------------

AUTH_PROCESSOR = "django.contrib.auth.context_processors.auth"
REQUEST_PROCESSOR = "django.template.context_processors.request"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


@dataclass(frozen=True)
class TemplateSettings:
    """What the project's settings modules say about rendering with a request: the context
    processors of `TEMPLATES` and the `MIDDLEWARE` (None: no settings module sets it)."""

    context_processors: frozenset[str] | None
    middleware: frozenset[str] | None
    files: frozenset[str]

    @property
    def user_in_context(self) -> bool:
        """Whether `{{ user }}` is the request's lazy user: the auth context processor is on
        and AuthenticationMiddleware (which sets `request.user`) is not known to be off."""
        processors = self.context_processors or frozenset()
        return AUTH_PROCESSOR in processors and (self.middleware is None or AUTH_MIDDLEWARE in self.middleware)


def template_settings(modules: dict[str, str], read: Callable[[str], str | None]) -> TemplateSettings:
    """Read `TEMPLATES` and `MIDDLEWARE` from the project's settings modules (`settings`,
    `settings.*`, `*_settings`): every string the lists name, across them all."""
    processors: set[str] | None = None
    middleware: set[str] | None = None
    files = set()
    for module, path in modules.items():
        parts = module.split(".")
        if not (parts[-1] == "settings" or "settings" in parts[:-1] or parts[-1].endswith("_settings")):
            continue
        text = read(path)
        if text is None or ("TEMPLATES" not in text and "MIDDLEWARE" not in text):
            continue
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        files.add(path)
        for stmt in tree.body:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) else []
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            value = getattr(stmt, "value", None)
            if value is None:
                continue
            if "TEMPLATES" in names:
                processors = (processors or set()) | _processors(value)
            if "MIDDLEWARE" in names:
                middleware = (middleware or set()) | {s.value for s in ast.walk(value) if isinstance(s, ast.Constant) and isinstance(s.value, str)}
    return TemplateSettings(
        frozenset(processors) if processors is not None else None,
        frozenset(middleware) if middleware is not None else None,
        frozenset(files),
    )


def _processors(value: ast.expr) -> set[str]:
    found = set()
    for node in ast.walk(value):
        if isinstance(node, ast.Dict):
            for key, item in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "context_processors":
                    found |= {s.value for s in ast.walk(item) if isinstance(s, ast.Constant) and isinstance(s.value, str)}
    return found
