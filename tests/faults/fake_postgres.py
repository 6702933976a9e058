"""A fake PostgreSQL server on 127.0.0.1 that refuses every login with one error, as a
real server does while it starts up (57P03), or when it has no connection slot left
(53300): it declines SSL, reads the startup message, answers with an ErrorResponse
and closes the connection.
"""

import asyncio
import contextlib
import struct

from tests._relay import free_port

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
STARTING_UP = ("57P03", "the database system is starting up")
TOO_MANY_CLIENTS = ("53300", "sorry, too many clients already")


def error_response(sqlstate: str, message: str) -> bytes:
    """A backend ErrorResponse message with severity FATAL."""
    fields = b"".join(
        kind + value.encode() + b"\0"
        for kind, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", sqlstate), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


class FakePostgres:
    """Answers every connection's startup message with *error* (SQLSTATE, message)."""

    def __init__(self, error: tuple[str, str] = STARTING_UP) -> None:
        self.error = error
        self.port = free_port()
        self.startups = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                while True:
                    (length,) = struct.unpack("!i", await reader.readexactly(4))
                    payload = await reader.readexactly(length - 4)
                    (code,) = struct.unpack("!i", payload[:4])
                    if code in (SSL_REQUEST, GSSENC_REQUEST):
                        writer.write(b"N")  # no encryption: go on in plain text
                        await writer.drain()
                        continue
                    self.startups += 1
                    writer.write(error_response(*self.error))
                    await writer.drain()
                    return
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
