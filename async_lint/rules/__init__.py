"""The rule registry: every `Rule` subclass in this package's `asl*.py` modules.

`RULES` imports them all on first use.  Choosing rules does not need to: the codes come from the
module names (`asl101_queryset_method.py` is ASL101) and the rules that are off by default are
listed here (a test checks the list against the classes), so a run whose findings are all in the
cache never imports a rule.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from .base import Rule

# Guesses, enabled only when named by their code (each class says `default_enabled = False`).
OFF_BY_DEFAULT = frozenset({"ASL203", "ASL301"})


@cache
def codes() -> tuple[str, ...]:
    """Every rule code, in order, without importing the rules."""
    return tuple(
        sorted(m.name[:6].upper() for m in pkgutil.iter_modules(__path__) if m.name.startswith("asl") and m.name[3:6].isdigit())
    )


def _load() -> dict[str, type[Rule]]:
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("asl"):
            importlib.import_module(f"{__name__}.{module.name}")
    found = {}
    stack = list(Rule.__subclasses__())
    while stack:
        rule = stack.pop()
        found[rule.code] = rule
        stack.extend(rule.__subclasses__())
    return dict(sorted(found.items()))


def __getattr__(name: str):
    if name == "RULES":
        rules = globals()["RULES"] = _load()
        return rules
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
