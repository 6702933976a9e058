"""Keep SQL parameters (password hashes, token hashes) out of the database driver's
debug log.

aiosqlite logs every call it hands to its thread at DEBUG, as the `functools.partial`
it runs, whose text holds the statement's parameters. A filter on its logger keeps the
record and replaces each such call by the name of the function.
"""

import functools
import logging

__all__ = ["hide_aiosqlite_parameters"]


class _CallNames(logging.Filter):
    """Replace `functools.partial` arguments of a record by their function's name."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, functools.partial) for a in args):
            record.args = tuple(_name(a) if isinstance(a, functools.partial) else a for a in args)
        return True


def _name(call: "functools.partial[object]") -> str:
    return str(getattr(call.func, "__qualname__", type(call.func).__name__))


def hide_aiosqlite_parameters() -> None:
    """Install the filter on the `aiosqlite` logger, once per process."""
    logger = logging.getLogger("aiosqlite")
    if not any(isinstance(f, _CallNames) for f in logger.filters):
        logger.addFilter(_CallNames())
