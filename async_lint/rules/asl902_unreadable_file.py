from __future__ import annotations

from .base import Rule


class UnreadableFile(Rule):
    """A file that cannot be read or decoded.

    ## What it does
    Reports a file that cannot be opened (permissions, deleted during the run) or whose bytes
    are not Python source in its declared encoding (PEP 263; UTF-8 when none is declared), or
    that contains NUL bytes.  The rest of the run goes on.
    """

    code = "ASL902"
    name = "unreadable-file"
    node_types = ()
