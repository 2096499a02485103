"""One thread that drives the sockets of many paho clients.

paho's own ``loop_start()`` costs a thread per client, which does not scale to thousands of
simulated devices. paho also offers an external-loop API (socket open/close and
want-write callbacks, ``loop_read``/``loop_write``/``loop_misc``): a :class:`NetworkLoop`
multiplexes any number of clients on one selector, with timers for the firmware's own
schedules. Everything that touches a client runs on its loop's thread; other threads hand
work over with :meth:`NetworkLoop.call_soon`.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable

import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)

MISC_INTERVAL_S = 1.0
"""How often every client's keepalive bookkeeping (PINGREQ, timeouts) runs."""


class NetworkLoop:
    def __init__(self, name: str):
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._pending: deque[Callable[[], None]] = deque()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._clients: set[mqtt.Client] = set()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    # --- any thread ---------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        self._wake()
        self._thread.join(timeout_s)

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run fn on the loop's thread (thread-safe)."""
        self._pending.append(fn)
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # already awake (buffer full), or closing
            self._wake_w.send(b"\0")

    # --- loop thread only ---------------------------------------------------------------

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (time.monotonic() + delay_s, next(self._order), fn))

    def attach(self, client: mqtt.Client) -> None:
        client.on_socket_open = self._socket_open
        client.on_socket_close = self._socket_close
        client.on_socket_register_write = self._register_write
        client.on_socket_unregister_write = self._unregister_write
        self._clients.add(client)

    def detach(self, client: mqtt.Client) -> None:
        """Forget a client and its socket, leaving the socket as it is."""
        self._clients.discard(client)
        sock = client.socket()
        if sock is not None:
            self._unregister(sock)

    def _socket_open(self, client: mqtt.Client, userdata, sock) -> None:
        self._selector.register(sock, selectors.EVENT_READ, client)

    def _socket_close(self, client: mqtt.Client, userdata, sock) -> None:
        self._unregister(sock)

    def _unregister(self, sock) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(sock)

    def _register_write(self, client: mqtt.Client, userdata, sock) -> None:
        self._watch(client, sock, selectors.EVENT_READ | selectors.EVENT_WRITE)

    def _unregister_write(self, client: mqtt.Client, userdata, sock) -> None:
        self._watch(client, sock, selectors.EVENT_READ)

    def _watch(self, client: mqtt.Client, sock, events: int) -> None:
        try:
            self._selector.modify(sock, events, client)
        except KeyError:  # a socket paho has not announced (yet): watch it all the same
            self._selector.register(sock, events, client)

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            # paho calls these again when a client is garbage-collected; the selector is gone.
            for client in self._clients:
                client.on_socket_open = client.on_socket_close = None
                client.on_socket_register_write = client.on_socket_unregister_write = None
            self._selector.close()
            self._wake_r.close()
            self._wake_w.close()

    def _serve(self) -> None:
        next_misc = time.monotonic() + MISC_INTERVAL_S
        while not self._stopping.is_set():
            now = time.monotonic()
            deadline = min(next_misc, self._timers[0][0] if self._timers else next_misc)
            for key, mask in self._selector.select(max(0.0, deadline - now)):
                self._handle(key, mask)
            while self._pending:
                self._guarded(self._pending.popleft())
            now = time.monotonic()
            while self._timers and self._timers[0][0] <= now:
                self._guarded(heapq.heappop(self._timers)[2])
            if now >= next_misc:
                next_misc = now + MISC_INTERVAL_S
                for client in list(self._clients):
                    self._guarded(client.loop_misc)

    def _handle(self, key: selectors.SelectorKey, mask: int) -> None:
        client: mqtt.Client | None = key.data
        if client is None:
            with contextlib.suppress(BlockingIOError):
                while self._wake_r.recv(4096):
                    pass
            return
        if mask & selectors.EVENT_READ:
            self._guarded(client.loop_read)
        if mask & selectors.EVENT_WRITE and client.socket() is not None:
            self._guarded(client.loop_write)

    @staticmethod
    def _guarded(fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception:
            log.exception("simulated firmware error")
