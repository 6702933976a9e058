"""`python -m fastapi_userkit`: the `userkit` command line."""

from fastapi_userkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
