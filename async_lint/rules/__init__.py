"""The rule registry: every `Rule` subclass in this package's `asl*.py` modules."""

from __future__ import annotations

import importlib
import pkgutil

from .base import Rule


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


RULES: dict[str, type[Rule]] = _load()
