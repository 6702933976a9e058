"""Database faults, on the local PostgreSQL and MariaDB: a server that refuses,
resets, stalls or slows connections (`proxy.FaultProxy`), one that answers logins with
"the database system is starting up" (`fake_postgres.FakePostgres`), and databases
without the kit's tables or with ids it cannot look up.

Each fault must give a `503 DATABASE_UNAVAILABLE` with `Retry-After` in bounded time,
no traceback in the logs, no half-written rows, and recovery without a restart; each
configuration fault a clear `ConfigurationError` at startup.
"""
