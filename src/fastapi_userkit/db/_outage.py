"""Telling a database outage from every other database error.

An outage is a database that cannot serve the request now: down, restarting, failing
over, out of connections or resources, or too slow to answer in time. Retrying shortly
can succeed, so the request is answered `503` with `Retry-After`, and its transaction is
rolled back. Anything else (a syntax error, a broken constraint, a missing table or
column, a refused login) is a bug or a misconfiguration: it stays a `500` with its
traceback, where someone will see it.

The verdict comes from the driver's own error, found under SQLAlchemy's wrapper: its
SQLSTATE (PostgreSQL, any driver), its error number (MySQL and MariaDB drivers) or its
result code (SQLite). Only errors that carry none of these are judged by their class.
"""

import errno
import socket
import sqlite3
from collections.abc import Iterator

from sqlalchemy import exc as sa_exc

#: SQLSTATE classes of an outage: 08 connection exception, 53 insufficient resources
#: (too many clients, disk full, out of memory), 57 operator intervention (shutdown,
#: "the database system is starting up", a statement cancelled by a timeout).
OUTAGE_SQLSTATE_CLASSES = frozenset({"08", "53", "57"})

#: SQLSTATEs of an outage in other classes: a lock not granted in time, and system
#: (I/O) errors below the server.
OUTAGE_SQLSTATES = frozenset({"55P03", "58000", "58030"})

#: MySQL and MariaDB error numbers of an outage. The others, such as 1045 (access
#: denied), 1054 (unknown column), 1062 (duplicate entry), 1064 (syntax) or 1146 (no
#: such table), are bugs or misconfiguration even when the driver raises them as
#: `OperationalError`.
MYSQL_OUTAGE_CODES = frozenset(
    {
        # The client has no connection, or lost it.
        2002,  # can't connect through the socket
        2003,  # can't connect to the server (refused, timed out)
        2005,  # unknown server host (DNS)
        2006,  # server has gone away
        2013,  # lost connection during query (a read timeout too)
        2055,  # lost connection, with a system error
        # The server refuses or drops connections.
        1040,  # too many connections
        1053,  # server shutdown in progress
        1077,  # normal shutdown
        1078,  # got a signal, aborting
        1079,  # shutdown complete
        1080,  # forcing close of a thread
        1129,  # host blocked after too many connection errors
        1152,  # aborted connection
        1158,  # error reading communication packets
        1159,  # timeout reading communication packets
        1160,  # error writing communication packets
        1161,  # timeout writing communication packets
        1184,  # aborted new connection
        1203,  # too many connections for this user
        1927,  # connection was killed (MariaDB)
        4031,  # disconnected for inactivity (MySQL)
        # Resources, and waits that ran out.
        1021,  # disk full
        1037,  # out of memory
        1038,  # out of sort memory
        1041,  # out of memory in the server
        1205,  # lock wait timeout exceeded
        1317,  # query interrupted
        1969,  # max_statement_time exceeded (MariaDB)
        3024,  # max_execution_time exceeded (MySQL)
    }
)

#: SQLite primary result codes of an outage: busy ("database is locked" after the busy
#: timeout), locked, out of memory, I/O error, disk full.
SQLITE_OUTAGE_CODES = frozenset({5, 6, 7, 10, 13})

#: Socket errors of a network that does not reach the server.
NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EHOSTDOWN,
        errno.ENETDOWN,
        errno.EADDRNOTAVAIL,
    }
)

_MYSQL_DRIVERS = frozenset({"asyncmy", "aiomysql", "pymysql", "MySQLdb"})

#: Errors judged by their class alone, when no driver error says more.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # no free connection in the pool in time
)


def is_outage(error: BaseException) -> bool:
    """Whether *error* says the database cannot serve the request now (not a bad statement).

    Args:
        error: Whatever a database call raised: a SQLAlchemy error, or a driver's or
            the network's own error (SQLAlchemy lets those through from `connect`).

    Returns:
        `True` for an outage, `False` for any other error.
    """
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True  # SQLAlchemy found the connection gone
    for cause in _driver_errors(error):
        verdict = _verdict(cause)
        if verdict is not None:
            return verdict
    return isinstance(error, OUTAGE_ERRORS)


def _driver_errors(error: BaseException) -> Iterator[BaseException]:
    """*error*, the driver error SQLAlchemy wrapped in it, and the driver error that a
    SQLAlchemy adapter (asyncpg's) translated. Only these links are followed: an
    unrelated error raised `from` a database error is not a database error.
    """
    current: BaseException | None = error
    for _ in range(4):  # wrapper, adapter, driver: a few links at most
        if current is None:
            return
        yield current
        if isinstance(current, sa_exc.StatementError):
            current = current.orig
        elif type(current).__module__.startswith("sqlalchemy.dialects."):
            current = current.__cause__
        else:
            return


def _verdict(error: BaseException) -> bool | None:
    """`True` or `False` when *error* itself tells, `None` when it does not."""
    if type(error).__module__.partition(".")[0] in _MYSQL_DRIVERS:
        # The error number, not the SQLSTATE these drivers also give: MySQL reports
        # most errors as the catch-all HY000, and a timeout as 70100 (a cancel).
        code = error.args[0] if error.args else None
        if isinstance(code, int):
            return code in MYSQL_OUTAGE_CODES
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(sqlstate, str) and len(sqlstate) == 5:
        return sqlstate[:2] in OUTAGE_SQLSTATE_CLASSES or sqlstate in OUTAGE_SQLSTATES
    if isinstance(error, sqlite3.Error):
        result = getattr(error, "sqlite_errorcode", None)
        if isinstance(result, int):
            return result & 0xFF in SQLITE_OUTAGE_CODES  # extended codes keep it low
    if type(error).__module__.startswith("asyncpg."):
        return _asyncpg_verdict(error)
    return _network_verdict(error)


def _asyncpg_verdict(error: BaseException) -> bool | None:
    """Judge the errors asyncpg raises itself, which carry no SQLSTATE."""
    names = {cls.__name__ for cls in type(error).__mro__}
    if "TargetServerAttributeNotMatched" in names:
        return True  # reached a standby where a primary is required: a failover
    if "InterfaceError" in names:
        # Misuse (bad arguments, an operation in progress) is a bug; a closed
        # connection has already been recognised by SQLAlchemy as invalidated.
        return False
    return None


def _network_verdict(error: BaseException) -> bool | None:
    """The network's errors, which drivers let through while connecting."""
    if isinstance(error, ConnectionError | TimeoutError | socket.gaierror):
        return True
    if isinstance(error, OSError):
        if error.errno in NETWORK_ERRNOS:
            return True
        # asyncio's error when every address of a host name refused the connection
        if error.errno is None and str(error).startswith("Multiple exceptions:"):
            return True
    return None
