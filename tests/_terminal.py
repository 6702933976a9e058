"""Run a command with a pseudo-terminal as its standard input and answer its prompts,
as a person at the keyboard would (getpass reads from it)."""

import os
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def converse(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    reply: Callable[[bytes, bytes], list[str]],
) -> tuple[int, bytes, bytes, bytes]:
    """Run *argv*; after each read, type the lines `reply(stderr, terminal)` returns
    for what was shown so far. Returns (exit code, stdout, stderr, terminal echo).
    """
    master, slave = os.openpty()
    # A new session has no controlling terminal, so getpass falls back to stdin: the pty.
    process = subprocess.Popen(  # noqa: S603 - the tests' own commands
        argv,
        cwd=cwd,
        env=env,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    os.close(slave)
    assert process.stdout is not None and process.stderr is not None
    out_fd, err_fd = process.stdout.fileno(), process.stderr.fileno()
    output = {out_fd: bytearray(), err_fd: bytearray(), master: bytearray()}
    reading = {out_fd, err_fd, master}
    deadline = time.monotonic() + timeout
    try:
        while out_fd in reading or err_fd in reading:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"timed out; stderr: {bytes(output[err_fd])!r}"
            ready, _, _ = select.select(list(reading), [], [], remaining)
            for fd in ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # EIO on the master once the child has gone
                    chunk = b""
                if chunk:
                    output[fd] += chunk
                else:
                    reading.discard(fd)
            for line in reply(bytes(output[err_fd]), bytes(output[master])):
                os.write(master, line.encode() + b"\n")
        code = process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
        os.close(master)
    return code, bytes(output[out_fd]), bytes(output[err_fd]), bytes(output[master])
