from __future__ import annotations

from .base import Rule


class FixNotApplied(Rule):
    """A fix that could not be applied; the file was left exactly as it was.

    ## What it does
    Reports a file that `--fix` did not change because the fixed text would not parse (a bug in
    async-lint: please report it) or because the file could not be written (read-only, removed).
    Not a byte of the file is changed.
    """

    code = "ASL903"
    name = "fix-not-applied"
    node_types = ()
