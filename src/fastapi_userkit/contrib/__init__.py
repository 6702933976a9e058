"""Optional integrations, each behind an extra (`pip install "fastapi-userkit[redis]"`).

Nothing here is imported by `import fastapi_userkit`.
"""

__all__: list[str] = []
