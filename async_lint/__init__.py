"""async-lint: finds sync-only Django calls that would run on the event loop, and fixes them."""

__version__ = "0.1.0"
