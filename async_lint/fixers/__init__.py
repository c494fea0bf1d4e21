"""Fixes as text edits on the original source, computed from `ast` positions.

Each module builds the edits for one kind of rewrite; rules choose which to offer and with what
applicability.  Nothing here writes files: `async_lint.fixes` applies the edits, re-checks, and
refuses any result that does not parse.
"""
