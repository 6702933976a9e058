"""Telling a database outage from every other database error."""

from sqlalchemy import exc as sa_exc

#: Errors that mean "the database cannot be reached now"; the request is answered
#: with 503 and its transaction is rolled back, so nothing is half-written.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    ConnectionError,
    TimeoutError,
)


def is_outage(error: BaseException) -> bool:
    """Whether *error* says the database is unreachable (not a bad statement)."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OUTAGE_ERRORS)
