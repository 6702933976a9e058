"""The `userkit` command line (also `python -m fastapi_userkit`).

It manages the users of the same kit the application mounts: by default one
built like `include_user_router(FastAPI())` from the `USERKIT_*` environment,
or the host's own `UserKit` named with `--app module:attribute` (or
`USERKIT_APP`).

Exit codes: `0` success, `1` the operation failed (unknown user, refused
password, existing address, database error), `2` bad usage or configuration
(wrong arguments, invalid address, missing password, invalid settings),
`130` interrupted.
"""

import argparse
import asyncio
import getpass
import importlib
import inspect
import json
import os
import secrets
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NoReturn, TypeVar

from fastapi import FastAPI
from pydantic import SecretStr, TypeAdapter, ValidationError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from fastapi_userkit._keys import ASYMMETRIC_ALGORITHMS
from fastapi_userkit._kit import UserKit, include_user_router
from fastapi_userkit.config import UserKitSettings
from fastapi_userkit.exceptions import (
    ConfigurationError,
    InvalidPasswordError,
    RoleNotFoundError,
    SecondFactorStateError,
    UserAlreadyExistsError,
    UserKitError,
    UserNotFoundError,
)
from fastapi_userkit.schemas import Email

__all__ = [
    "CommandError",
    "build_parser",
    "load_kit",
    "main",
]

PROG = "userkit"
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

APP_ENV = "USERKIT_APP"
SUPERUSER_EMAIL_ENV = "USERKIT_SUPERUSER_EMAIL"
SUPERUSER_PASSWORD_ENV = "USERKIT_SUPERUSER_PASSWORD"  # noqa: S105 - a variable name

_email_adapter: TypeAdapter[str] = TypeAdapter(Email)
_T = TypeVar("_T")


class CommandError(Exception):
    """An expected failure: printed as `userkit: error: ...`, exits with *code*."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class _Parser(argparse.ArgumentParser):
    """Argument parser whose errors raise instead of exiting the interpreter."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise CommandError(message, EXIT_USAGE)


# --------------------------------------------------------------------------- parsing


def _positive(value: str) -> int:
    number = _integer(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return number


def _non_negative(value: str) -> int:
    number = _integer(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return number


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None


def _add_password_options(parser: argparse.ArgumentParser, *, env_fallback: bool) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    group.add_argument(
        "--password-env",
        metavar="VAR",
        help="read the password from the environment variable VAR",
    )
    fallback = f" then ${SUPERUSER_PASSWORD_ENV}," if env_fallback else ""
    parser.epilog = (
        f"Password: --password-stdin or --password-env,{fallback} else a hidden prompt "
        "(twice) when standard input is a terminal. The password is never echoed."
    )


def build_parser() -> argparse.ArgumentParser:
    """The `userkit` argument parser."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--app",
        metavar="MODULE:ATTRIBUTE",
        default=argparse.SUPPRESS,
        help=(
            "the host's UserKit (the object include_user_router() returned), or a "
            "function of no arguments returning it, e.g. `myapp.main:kit`; imported "
            f"from the current directory. Default: ${APP_ENV}, else a kit built from "
            "the USERKIT_* settings with the default User model"
        ),
    )
    parser = _Parser(
        prog=PROG,
        description="Manage the users of a fastapi-userkit application.",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    create = commands.add_parser(
        "create-superuser",
        parents=[common],
        help="create an active, verified superuser and print its id",
        description="Create an active, verified superuser and print its id.",
    )
    create.add_argument(
        "--email",
        help=f"its e-mail address (default: ${SUPERUSER_EMAIL_ENV}, else a prompt)",
    )
    _add_password_options(create, env_fallback=True)

    set_password = commands.add_parser(
        "set-password",
        parents=[common],
        help="set a user's password and end all of its sessions",
        description="Set a user's password; every session and access token ends.",
    )
    set_password.add_argument("email", metavar="EMAIL")
    _add_password_options(set_password, env_fallback=False)

    deactivate = commands.add_parser(
        "deactivate",
        parents=[common],
        help="deactivate a user and end all of its sessions",
        description="Deactivate a user: no more logins, and every session ends now.",
    )
    deactivate.add_argument("email", metavar="EMAIL")

    revoke = commands.add_parser(
        "revoke-sessions",
        parents=[common],
        help="end every session of a user and invalidate its access tokens",
        description="End every login session of a user and invalidate its access tokens.",
    )
    revoke.add_argument("email", metavar="EMAIL")

    reset_mfa = commands.add_parser(
        "reset-mfa",
        parents=[common],
        help="remove a user's second factors (a lost device)",
        description=(
            "Remove a user's authenticator app, passkeys and recovery codes: their logins take the "
            "password alone until they enrol again (USERKIT_MFA_ENABLED=true)."
        ),
    )
    reset_mfa.add_argument("email", metavar="EMAIL")

    list_users = commands.add_parser(
        "list-users",
        parents=[common],
        help="list users, ordered by e-mail address",
        description="List users (id, email, active, superuser, verified) by e-mail address.",
    )
    list_users.add_argument("--limit", type=_positive, default=100, help="at most N (100)")
    list_users.add_argument("--offset", type=_non_negative, default=0, help="skip N first (0)")
    list_users.add_argument("--json", action="store_true", help="print a JSON list")

    define = commands.add_parser(
        "create-role",
        parents=[common],
        help="define a role and its scopes (or redefine an existing one)",
        description=(
            "Define the role NAME granting the SCOPEs; an existing role gets exactly "
            "these scopes and this description. Its holders see the change on their "
            "next request."
        ),
    )
    define.add_argument("name", metavar="NAME")
    define.add_argument("scopes", metavar="SCOPE", nargs="*")
    define.add_argument("--description", default="", help="what the role is for")

    remove = commands.add_parser(
        "delete-role",
        parents=[common],
        help="delete a role and every grant of it",
        description="Delete a role, its scopes and every grant of it.",
    )
    remove.add_argument("name", metavar="NAME")

    grant = commands.add_parser(
        "grant-role",
        parents=[common],
        help="give a role to a user",
        description="Give the role NAME to the user EMAIL (nothing changes if they hold it).",
    )
    grant.add_argument("email", metavar="EMAIL")
    grant.add_argument("name", metavar="NAME")

    take = commands.add_parser(
        "revoke-role",
        parents=[common],
        help="take a role from a user, effective on their next request",
        description="Take the role NAME from the user EMAIL; effective on their next request.",
    )
    take.add_argument("email", metavar="EMAIL")
    take.add_argument("name", metavar="NAME")

    list_roles = commands.add_parser(
        "list-roles",
        parents=[common],
        help="list roles and their scopes, by name",
        description="List the roles (name, scopes, description), or those of one user.",
    )
    list_roles.add_argument("--user", metavar="EMAIL", help="only the roles this user holds")
    list_roles.add_argument("--json", action="store_true", help="print a JSON list")

    commands.add_parser(
        "init-db",
        parents=[common],
        help="create the kit's tables (development only)",
        description=(
            "Create the kit's tables (users, login sessions and roles) that are missing, "
            "whatever the database. For development only: use migrations (Alembic) "
            "in production."
        ),
    )
    return parser


# --------------------------------------------------------------------------- the kit


def _settings() -> UserKitSettings:
    try:
        settings = UserKitSettings()
    except ValidationError as exc:
        raise CommandError(_settings_message(exc), EXIT_USAGE) from None
    if settings.secret_key is None and settings.jwt_algorithm not in ASYMMETRIC_ALGORITHMS:
        # The commands sign no token: a throw-away key spares them the warning about
        # an ephemeral key (and, off SQLite, the refusal to start without one).
        settings = settings.model_copy(update={"secret_key": SecretStr(secrets.token_hex(32))})
    return settings


def _settings_message(exc: ValidationError) -> str:
    # Never the input values: a refused secret must not end up in a terminal or a log.
    ours = exc.title == UserKitSettings.__name__
    lines = ["invalid USERKIT_* settings:" if ours else f"invalid {exc.title}:"]
    for error in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in error["loc"])
        name = f"USERKIT_{field.upper()}" if ours and field else field or exc.title
        lines.append(f"  {name}: {error['msg']}")
    return "\n".join(lines)


def load_kit(reference: str | None) -> UserKit[Any]:
    """The kit to work on: the host's (*reference* is `module:attribute`) or the default one."""
    if not reference:
        return include_user_router(FastAPI(), settings=_settings())
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise CommandError(
            f"--app must look like module:attribute (e.g. main:kit), not {reference!r}",
            EXIT_USAGE,
        )
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module_name + ".").startswith(exc.name + "."):
            raise  # the host module itself failed to import something: show where
        raise CommandError(f"cannot import {module_name!r} from {cwd}: {exc}", EXIT_USAGE) from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise CommandError(
                f"{module_name!r} has no attribute {attribute!r}", EXIT_USAGE
            ) from None
    if not isinstance(target, UserKit) and callable(target) and not isinstance(target, FastAPI):
        try:
            inspect.signature(target).bind()
        except (TypeError, ValueError):
            raise CommandError(
                f"{reference} is a callable that needs arguments; point --app at the "
                "UserKit or at a function of no arguments returning it",
                EXIT_USAGE,
            ) from None
        target = target()
    if isinstance(target, FastAPI):
        raise CommandError(
            f"{reference} is a FastAPI app; point --app at the UserKit that "
            "include_user_router() returned (e.g. main:kit)",
            EXIT_USAGE,
        )
    if not isinstance(target, UserKit):
        raise CommandError(
            f"{reference} is a {type(target).__name__}, not a UserKit (the object "
            "include_user_router() returns)",
            EXIT_USAGE,
        )
    return target


async def _with_kit(kit: UserKit[Any], action: Callable[[], Awaitable[_T]]) -> _T:
    await kit.startup()
    try:
        return await action()
    finally:
        await kit.shutdown()


async def _nothing() -> None:
    return None


def _run(kit: UserKit[Any], action: Callable[[], Awaitable[_T]]) -> _T:
    return asyncio.run(_with_kit(kit, action))


# --------------------------------------------------------------------------- input


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _checked_email(email: str) -> str:
    try:
        return _email_adapter.validate_python(email)
    except ValidationError as exc:
        reason = exc.errors(include_input=False, include_url=False)[0]["msg"]
        raise CommandError(
            f"{email!r} is not a valid e-mail address ({reason})", EXIT_USAGE
        ) from None


def _prompt_email() -> str:
    sys.stderr.write("E-mail: ")
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        raise CommandError("no e-mail address given", EXIT_USAGE)
    return line.strip()


def _superuser_email(args: argparse.Namespace) -> str:
    email: str | None = args.email or os.environ.get(SUPERUSER_EMAIL_ENV)
    if not email:
        if args.password_stdin or not _interactive():
            raise CommandError(
                f"no e-mail address: give --email or set {SUPERUSER_EMAIL_ENV}", EXIT_USAGE
            )
        email = _prompt_email()
    return _checked_email(email)


def _password(args: argparse.Namespace, *, env_fallback: str | None = None) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not password:
            raise CommandError("no password on standard input", EXIT_USAGE)
        return password
    if args.password_env is not None:
        value = os.environ.get(args.password_env)
        if not value:
            raise CommandError(
                f"the environment variable {args.password_env} is not set or empty", EXIT_USAGE
            )
        return value
    if env_fallback is not None and os.environ.get(env_fallback):
        return os.environ[env_fallback]
    if not _interactive():
        sources = "--password-stdin or --password-env VAR"
        if env_fallback is not None:
            sources += f" or set {env_fallback}"
        raise CommandError(
            f"no password: standard input is not a terminal, so use {sources}", EXIT_USAGE
        )
    try:
        first = getpass.getpass("Password: ")
        if not first:
            raise CommandError("the password is empty", EXIT_USAGE)
        second = getpass.getpass("Password (again): ")
    except EOFError:
        raise CommandError("no password given", EXIT_USAGE) from None
    if first != second:
        raise CommandError("the two passwords do not match", EXIT_USAGE)
    return first


def _refused(exc: InvalidPasswordError) -> CommandError:
    reasons = "\n".join(f"  - {reason}" for reason in exc.reasons)
    return CommandError(f"the password was refused:\n{reasons}")


# --------------------------------------------------------------------------- commands


async def _find(kit: UserKit[Any], email: str) -> Any:
    try:
        return await kit.users.get_by_email(email)
    except UserNotFoundError:
        _checked_email(email)  # a malformed address is bad input, not a missing user
        raise CommandError(f"no user with e-mail {email}") from None


def _create_superuser(kit: UserKit[Any], args: argparse.Namespace) -> int:
    email = _superuser_email(args)
    password = _password(args, env_fallback=SUPERUSER_PASSWORD_ENV)

    async def action() -> Any:
        try:
            return await kit.users.create(
                email=email, password=password, is_superuser=True, is_verified=True
            )
        except InvalidPasswordError as exc:
            raise _refused(exc) from None
        except UserAlreadyExistsError:
            raise CommandError(f"a user with e-mail {email} already exists") from None

    user = _run(kit, action)
    print(user.id)  # noqa: T201 - the command's output
    _note(f"created superuser {email}")
    return EXIT_OK


def _for_user(
    kit: UserKit[Any], email: str, operation: Callable[[Any], Awaitable[Any]], done: str
) -> int:
    """Run *operation* on the id of the user *email*, then say *done*."""

    async def action() -> None:
        await operation((await _find(kit, email)).id)

    _run(kit, action)
    _say(done)
    return EXIT_OK


def _set_password(kit: UserKit[Any], args: argparse.Namespace) -> int:
    password = _password(args)

    async def set_password(user_id: Any) -> None:
        try:
            await kit.users.set_password(user_id, password)
        except InvalidPasswordError as exc:
            raise _refused(exc) from None

    done = f"password set for {args.email}; all of its sessions have ended"
    return _for_user(kit, args.email, set_password, done)


def _deactivate(kit: UserKit[Any], args: argparse.Namespace) -> int:
    done = f"deactivated {args.email}; all of its sessions have ended"
    return _for_user(kit, args.email, kit.users.deactivate, done)


def _revoke_sessions(kit: UserKit[Any], args: argparse.Namespace) -> int:
    return _for_user(
        kit, args.email, kit.users.revoke_sessions, f"ended every session of {args.email}"
    )


def _reset_mfa(kit: UserKit[Any], args: argparse.Namespace) -> int:
    async def reset(user_id: Any) -> None:
        try:
            await kit.users.reset_second_factors(user_id)
        except SecondFactorStateError:
            raise CommandError(f"{args.email} has no second factor") from None
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from None

    done = f"removed the second factors of {args.email}; it logs in with its password alone"
    return _for_user(kit, args.email, reset, done)


def _list_users(kit: UserKit[Any], args: argparse.Namespace) -> int:
    async def action() -> list[dict[str, Any]]:
        page = await kit.users.list(offset=args.offset, limit=args.limit)
        # Only these five fields: never the password hash.
        return [
            {
                "id": str(user.id),
                "email": user.email,
                "is_active": bool(user.is_active),
                "is_superuser": bool(user.is_superuser),
                "is_verified": bool(user.is_verified),
            }
            for user in page.items
        ]

    rows = _run(kit, action)
    if args.json:
        _say(json.dumps(rows, indent=2))
    else:
        _say(_table(rows))
    return EXIT_OK


def _table(rows: list[dict[str, Any]]) -> str:
    header = ["id", "email", "active", "superuser", "verified"]
    cells = [
        [
            row["id"],
            row["email"],
            *("yes" if row[key] else "no" for key in ("is_active", "is_superuser", "is_verified")),
        ]
        for row in rows
    ]
    return _columns(header, cells)


def _columns(header: list[str], cells: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
    return "\n".join(
        "  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *cells]
    )


def _role_problem(exc: ValidationError) -> CommandError:
    fields = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
    what = {"name": "role name", "scopes": "scope", "description": "description"}
    named = ", ".join(what.get(field, field) for field in fields) or "role"
    return CommandError(
        f"invalid {named}: names and scopes are letters, digits and _ . : - "
        "(scopes also /), starting with a letter or digit",
        EXIT_USAGE,
    )


def _create_role(kit: UserKit[Any], args: argparse.Namespace) -> int:
    async def action() -> Any:
        return await kit.roles.ensure(args.name, args.scopes, description=args.description)

    try:
        role = _run(kit, action)
    except ValidationError as exc:
        raise _role_problem(exc) from None
    _say(f"role {role.name} grants: {' '.join(role.scopes) or '(no scope)'}")
    return EXIT_OK


def _delete_role(kit: UserKit[Any], args: argparse.Namespace) -> int:
    async def action() -> None:
        try:
            await kit.roles.delete(args.name)
        except RoleNotFoundError:
            raise CommandError(f"no role named {args.name}") from None

    _run(kit, action)
    _say(f"deleted role {args.name} and every grant of it")
    return EXIT_OK


def _change_grant(kit: UserKit[Any], args: argparse.Namespace, *, grant: bool) -> int:
    async def action() -> bool:
        user = await _find(kit, args.email)
        try:
            if grant:
                return await kit.roles.grant(user, args.name)
            return await kit.roles.revoke(user, args.name)
        except RoleNotFoundError:
            raise CommandError(f"no role named {args.name}") from None

    changed = _run(kit, action)
    if grant:
        _say(f"{args.email} holds {args.name}" + ("" if changed else " already"))
    else:
        _say(
            f"{args.email} no longer holds {args.name}"
            if changed
            else f"{args.email} did not hold {args.name}"
        )
    return EXIT_OK


def _grant_role(kit: UserKit[Any], args: argparse.Namespace) -> int:
    return _change_grant(kit, args, grant=True)


def _revoke_role(kit: UserKit[Any], args: argparse.Namespace) -> int:
    return _change_grant(kit, args, grant=False)


def _list_roles(kit: UserKit[Any], args: argparse.Namespace) -> int:
    async def action() -> list[dict[str, Any]]:
        roles = await kit.roles.list()
        if args.user is not None:
            held, _ = await kit.roles.of(await _find(kit, args.user))
            roles = [role for role in roles if role.name in held]
        return [
            {"name": role.name, "scopes": list(role.scopes), "description": role.description}
            for role in roles
        ]

    rows = _run(kit, action)
    if args.json:
        _say(json.dumps(rows, indent=2))
    else:
        cells = [[row["name"], " ".join(row["scopes"]), row["description"]] for row in rows]
        _say(_columns(["role", "scopes", "description"], cells))
    return EXIT_OK


def _init_db(kit: UserKit[Any], args: argparse.Namespace) -> int:
    database = kit.database

    async def action() -> None:
        # Before the kit starts: its startup refuses a database without the tables.
        await database.create_tables()
        await _with_kit(kit, _nothing)

    asyncio.run(action())
    _say(f"tables ready: {', '.join(table.name for table in database.tables)}")
    _note("init-db is for development; use migrations (Alembic) in production")
    return EXIT_OK


_COMMANDS: dict[str, Callable[[UserKit[Any], argparse.Namespace], int]] = {
    "create-superuser": _create_superuser,
    "set-password": _set_password,
    "deactivate": _deactivate,
    "revoke-sessions": _revoke_sessions,
    "reset-mfa": _reset_mfa,
    "list-users": _list_users,
    "create-role": _create_role,
    "delete-role": _delete_role,
    "grant-role": _grant_role,
    "revoke-role": _revoke_role,
    "list-roles": _list_roles,
    "init-db": _init_db,
}


# --------------------------------------------------------------------------- main


def _say(message: str) -> None:
    print(message)  # noqa: T201 - the command's output


def _note(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)  # noqa: T201 - the command's output


def _database_message(exc: SQLAlchemyError) -> str:
    # The driver's message only: SQLAlchemy's own text carries the statement and
    # its parameters (a password hash, for instance).
    detail = str(exc.orig) if isinstance(exc, DBAPIError) else type(exc).__name__
    message = f"database error: {detail}"
    if "table" in detail.lower():
        message += (
            "\n  (create the tables with your migrations, or `userkit init-db` in development)"
        )
    return message


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `userkit` command with *argv* (default `sys.argv[1:]`); return the exit code."""
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help
            return exc.code if isinstance(exc.code, int) else EXIT_OK
        reference: str | None = getattr(args, "app", None) or os.environ.get(APP_ENV)
        kit = load_kit(reference)
        return _COMMANDS[args.command](kit, args)
    except CommandError as exc:
        _note(f"error: {exc.message}")
        return exc.code
    except ConfigurationError as exc:
        _note(f"error: {exc}")
        return EXIT_USAGE
    except ValidationError as exc:  # the host module built settings that do not validate
        _note(f"error: {_settings_message(exc)}")
        return EXIT_USAGE
    except SQLAlchemyError as exc:
        _note(f"error: {_database_message(exc)}")
        return EXIT_FAILURE
    except UserKitError as exc:
        _note(f"error: {exc or type(exc).__name__}")
        return EXIT_FAILURE
    except (ConnectionError, TimeoutError) as exc:  # the driver could not reach the server
        _note(f"error: database unreachable: {exc}")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        _note("interrupted")
        return EXIT_INTERRUPTED
