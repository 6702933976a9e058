"""Data files shipped with the kit (read with `importlib.resources`)."""

__all__: list[str] = []
