"""Provider limits kept on our side, and merging what a limit holds back.

A ``RateLimiter`` counts sends per key (a robot, a callee) in sliding windows — the
provider's documented caps, e.g. (20, 60 s) for a group robot, (1, 60 s) and (5, 3600 s)
per callee for voice — and honours blocks the provider imposes (DingTalk: 10 minutes
after the 21st message in a minute). ``Dispatcher`` sends through a channel: the messages
for one key that are due together become ONE message listing them (``merge``), and a
limited key gets a ``rate_limited`` receipt with the time worth trying again, so the
caller keeps the messages and nothing is dropped.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Sequence

from gis.channels.base import Channel, DeliveryReceipt, Message


class RateLimiter:
    def __init__(self, limits: Sequence[tuple[int, float]]) -> None:
        self.limits = tuple(limits)
        self._sent: dict[str, deque[float]] = defaultdict(deque)
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def retry_at(self, key: str, now: float | None = None) -> float | None:
        """None if a send for ``key`` is allowed now, else the earliest time it will be."""
        now = time.time() if now is None else now
        with self._lock:
            waits = [self._blocked_until.get(key, 0.0)]
            stamps = self._sent[key]
            longest = max((window for _, window in self.limits), default=0.0)
            while stamps and stamps[0] <= now - longest:
                stamps.popleft()
            for count, window in self.limits:
                recent = [t for t in stamps if t > now - window]
                if len(recent) >= count:
                    waits.append(recent[-count] + window)
            until = max(waits)
            return until if until > now else None

    def record(self, key: str, now: float | None = None) -> None:
        with self._lock:
            self._sent[key].append(time.time() if now is None else now)

    def block(self, key: str, until: float) -> None:
        """The provider said no: nothing for ``key`` before ``until``."""
        with self._lock:
            self._blocked_until[key] = max(until, self._blocked_until.get(key, 0.0))


def merge(messages: Sequence[Message]) -> Message:
    """One message listing several alerts for one rate key (template params: the newest)."""
    if len(messages) == 1:
        return messages[0]
    first, last = messages[0], messages[-1]
    lines = [f"{i}. {m.title}: {m.text}" for i, m in enumerate(messages, 1)]
    mentions = tuple(dict.fromkeys(a for m in messages for a in m.mentioned()))
    return Message(
        address=first.address,
        title=f"{len(messages)} 条告警 / alerts: {first.title}",
        text="\n".join(lines),
        url=first.url,
        params=_merged_params(last.params, len(messages)),
        refs=tuple(r for m in messages for r in m.refs),
        mentions=mentions,
    )


def _merged_params(params: dict[str, str], count: int) -> dict[str, str]:
    """Templates (SMS, voice) have fixed variables: the newest alert's, its title saying
    how many there are — no variable the template does not know."""
    if "title" not in params:
        return dict(params)
    return {**params, "title": f"{params['title']}等{count}条告警"}


class Dispatcher:
    """Sends through one channel within its limits; see the module docstring. One
    dispatcher per channel and process (its limiter is in memory): a second process's
    sends show up as the provider's own rate-limit answers, which block the key here."""

    def __init__(self, channel: Channel, limiter: RateLimiter | None = None) -> None:
        self.channel = channel
        self.limiter = limiter or RateLimiter(channel.limits)

    def dispatch(
        self, messages: Sequence[Message]
    ) -> list[tuple[tuple[Message, ...], DeliveryReceipt]]:
        """Per rate key: (the messages it covers, the receipt of their one send)."""
        groups: dict[str, list[Message]] = defaultdict(list)
        for message in messages:
            groups[self.channel.rate_key(message)].append(message)
        outcome = []
        for key, group in groups.items():
            now = time.time()
            retry_at = self.limiter.retry_at(key, now)
            if retry_at is not None:
                receipt = DeliveryReceipt(
                    "rate_limited",
                    error=f"{self.channel.name} limit for {key}",
                    started_at=now,
                    finished_at=now,
                    retry_at=retry_at,
                )
            else:
                receipt = self.channel.send(merge(group))
                # Counted from when the answer came: the provider counted it before that,
                # never after, so our window cannot end earlier than the provider's.
                self.limiter.record(key, receipt.finished_at)
                if receipt.status == "rate_limited" and receipt.retry_at is not None:
                    self.limiter.block(key, receipt.retry_at)
            outcome.append((tuple(group), receipt))
        return outcome
