from __future__ import annotations

from .base import Invalid, Rule


class SyntaxErrorInFile(Rule):
    """A file that does not parse.

    ## What it does
    Reports a file that Python (the interpreter running async-lint) cannot parse.  The rest of
    the run goes on; this file is not checked.

    ## Why is this bad?
    Nothing in the file was checked.  Syntax newer than the interpreter running async-lint (for
    example PEP 695 generics under Python 3.11) also lands here: run async-lint with the
    project's Python.
    """

    code = "ASL901"
    name = "syntax-error"
    node_types = ()
    INVALID = [Invalid("async def broken(:\n    pass\n")]
