"""A TCP proxy on 127.0.0.1 in front of a local database server, which a test
switches between faults while the application keeps running.

The fault applies at once: to the connections made from then on, and to the data
that connections already open send afterwards, so a pooled connection that
completed its handshake before `STALL` sees its next query stall.
"""

import asyncio
import contextlib
import enum
import socket
import struct

from tests._relay import free_port

#: Bounds every wait of the proxy itself, so a test can never hang on it.
MAX_WAIT = 30.0
#: How long `RESET` waits for the client to speak first.
FIRST_MESSAGE_WAIT = 0.2


class Fault(enum.Enum):
    """What the proxy does with connections and their data."""

    NONE = "forward"
    """Forward every byte both ways."""
    REFUSE = "refuse"
    """Nothing listens: new connections are refused, open ones are reset."""
    RESET = "reset"
    """Accept, wait briefly for the client's first message (PostgreSQL's SSL or startup
    request; a MySQL client waits for the server to speak), then reset the connection:
    a reset during the handshake."""
    STALL = "stall"
    """Accept and hold: nothing is forwarded or answered, in either direction."""
    SLOW = "slow"
    """Forward, holding each chunk for `delay` seconds first."""


class FaultProxy:
    """Forwards 127.0.0.1:*port* to *target*, with the current `fault` applied."""

    def __init__(self, target: tuple[str, int], *, delay: float = 0.5) -> None:
        self.target = _local(target)
        self.delay = delay
        self.port = free_port()
        self.fault = Fault.NONE
        self._server: asyncio.Server | None = None
        self._sockets: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()

    async def start(self) -> None:
        """Listen on the port (the same one after a `REFUSE`)."""
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    def point_at(self, target: tuple[str, int]) -> None:
        """Forward the connections made from now on to *target*."""
        self.target = _local(target)

    async def set(self, fault: Fault) -> None:
        """Apply *fault* from now on."""
        self.fault = fault
        self._changed.set()
        self._changed = asyncio.Event()
        if fault is Fault.REFUSE:
            await self._stop_listening()
            self.reset_all()
        else:
            await self.start()

    def reset_all(self) -> None:
        """Reset every open connection, as a crashed server or a cut network would."""
        for writer in list(self._sockets):
            _reset(writer)
        self._sockets.clear()

    async def close(self) -> None:
        """Stop listening, reset every connection and wait for their tasks."""
        self.fault = Fault.REFUSE
        self._changed.set()
        await self._stop_listening()
        self.reset_all()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=MAX_WAIT)

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._sockets.add(writer)
        try:
            if self.fault is Fault.RESET:
                with contextlib.suppress(OSError, TimeoutError):
                    await asyncio.wait_for(reader.read(8), FIRST_MESSAGE_WAIT)
                _reset(writer)
                return
            await self._hold_while_stalled(writer)
            if writer.is_closing():
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError:
                _reset(writer)
                return
            self._sockets.add(up_writer)
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._sockets.discard(writer)
            self._tasks.discard(task)

    async def _hold_while_stalled(self, writer: asyncio.StreamWriter) -> None:
        """Wait while the fault is `STALL` (bounded), or until the socket is reset."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAX_WAIT
        while self.fault is Fault.STALL and not writer.is_closing():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.1))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._hold_while_stalled(writer)
                if self.fault is Fault.SLOW:
                    await asyncio.sleep(self.delay)
                if writer.is_closing():
                    return
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            if not writer.is_closing():
                writer.close()
            self._sockets.discard(writer)


def _local(target: tuple[str, int]) -> tuple[str, int]:
    if target[0] != "127.0.0.1":
        raise ValueError("the fault proxy only forwards to 127.0.0.1")
    return target


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (RST) rather than an orderly FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
