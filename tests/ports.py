"""Ports for the servers tests and benchmarks start, without the free-port race.

A port found free is free only until someone binds it: on a busy machine another process
can take it between the look and the server's own bind. So:

- a server that accepts a bound socket gets one and never races (``bound_socket``: uvicorn
  in a thread, ``http.server``);
- a server that binds by itself (Mosquitto, PostgreSQL, a uvicorn process) is started
  through ``on_free_port``, which starts it again on another port when the start failed
  because the port was taken (and only then: any other failure is raised at once).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

PORT_TAKEN_SIGNS = ("Address already in use", "already taken")
"""What a failed start says when its port was taken: the OS's EADDRINUSE text (Mosquitto's
log, PostgreSQL's log, uvicorn's stderr) and ingest.broker's own check."""

ATTEMPTS = 5


def bound_socket() -> socket.socket:
    """A listening-ready socket on a free loopback port; the caller owns and closes it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    """A port free at this moment. Only for ``on_free_port`` (see the module docstring)."""
    with bound_socket() as sock:
        return sock.getsockname()[1]


def port_taken(error: BaseException) -> bool:
    text = str(error).lower()
    return any(sign.lower() in text for sign in PORT_TAKEN_SIGNS)


def on_free_port(start: Callable[[int], T], attempts: int = ATTEMPTS) -> T:
    """``start(port)`` on a free port; again on a new port if that one was taken meanwhile.

    ``start`` must raise an exception whose text carries the server's error (e.g. its log
    tail) when it could not start, so that a taken port can be told from a real fault.
    """
    for _ in range(attempts - 1):
        try:
            return start(free_port())
        except Exception as error:
            if not port_taken(error):
                raise
    return start(free_port())
