"""The channel interface: a message in, a delivery receipt out.

A provider implements ``attempt(message)``: one request, returning the provider's message
id or raising ``TransientError`` (worth retrying: 5xx, timeouts, "system busy"),
``RateLimitedError`` (the provider or our own limiter says not now) or ``PermanentError``
(wrong signature, unknown user: retrying cannot help; ``AddressGoneError`` when the address
itself no longer exists). ``Channel.send`` turns that into a
``DeliveryReceipt`` after retrying transient errors with exponential backoff.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

ReceiptStatus = Literal["sent", "failed", "rate_limited"]


@dataclass(frozen=True)
class Message:
    """One alert for one recipient on one channel.

    ``address`` is what the provider delivers to: a WeCom userid, a phone number (E.164
    or 11-digit mainland), a Web Push subscription as JSON; robots post to their group and
    mention ``address`` (a mobile) instead. ``params`` fill SMS/voice templates (the text
    is for channels that take free text). ``refs`` say which alerts it carries (task ids).
    """

    address: str
    title: str
    text: str
    url: str = ""
    params: dict[str, str] = field(default_factory=dict)
    refs: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    """Robots: who to @ (defaults to ``address``); a merged message mentions everyone."""

    def mentioned(self) -> list[str]:
        return list(self.mentions or (self.address,))


@dataclass(frozen=True)
class DeliveryReceipt:
    status: ReceiptStatus
    provider_id: str = ""
    error: str = ""
    attempts: int = 0
    started_at: float = 0.0
    finished_at: float = 0.0
    retry_at: float | None = None
    """For rate_limited: the earliest wall-clock time (epoch s) worth trying again."""
    retryable: bool = False
    """For failed: every attempt failed transiently (the provider may be back later)."""
    address_gone: bool = False
    """For failed: the provider says the address no longer exists (forget it)."""

    @property
    def elapsed_s(self) -> float:
        return self.finished_at - self.started_at


def clip_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` within ``max_bytes`` of UTF-8 (providers count bytes)."""
    return text.encode()[:max_bytes].decode(errors="ignore")


class ChannelError(Exception):
    """Base of what ``attempt`` may raise."""


class TransientError(ChannelError):
    """Worth retrying after a backoff (5xx, timeout, provider busy)."""


class PermanentError(ChannelError):
    """Retrying cannot help (bad signature, unknown recipient, template rejected)."""


class AddressGoneError(PermanentError):
    """The address no longer exists (a Web Push subscription the push service dropped):
    the receipt says so, and whoever stored the address forgets it."""


class RateLimitedError(ChannelError):
    """Not now: try again at ``retry_at`` (epoch seconds)."""

    def __init__(self, message: str, retry_at: float) -> None:
        super().__init__(message)
        self.retry_at = retry_at


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for transient errors: base, base·2, base·4 … capped."""

    max_attempts: int = 4
    base_s: float = 0.5
    max_s: float = 8.0

    def delay_s(self, failed_attempts: int) -> float:
        return min(self.max_s, self.base_s * 2 ** (failed_attempts - 1))


class Channel:
    """A provider. Subclasses set ``name`` and implement ``attempt``; ``rate_key`` says
    which limit a message counts against (the robot for group robots, the callee for
    voice), ``limits`` the provider's documented (count, window_s) caps on that key."""

    name: str = ""
    limits: tuple[tuple[int, float], ...] = ()

    def __init__(self, retry: RetryPolicy | None = None) -> None:
        self.retry = retry or RetryPolicy()

    def rate_key(self, message: Message) -> str:
        return message.address

    def attempt(self, message: Message) -> str:
        """Send once; return the provider's message id or raise a ChannelError."""
        raise NotImplementedError

    def send(self, message: Message) -> DeliveryReceipt:
        started = time.time()
        attempts = 0
        while True:
            attempts += 1
            try:
                provider_id = self.attempt(message)
            except TransientError as error:
                if attempts >= self.retry.max_attempts:
                    return self._receipt(
                        "failed", started, attempts, error=f"transient: {error}", retryable=True
                    )
                time.sleep(self.retry.delay_s(attempts))
                continue
            except RateLimitedError as error:
                return self._receipt(
                    "rate_limited", started, attempts, error=str(error), retry_at=error.retry_at
                )
            except AddressGoneError as error:
                return self._receipt(
                    "failed", started, attempts, error=str(error), address_gone=True
                )
            except PermanentError as error:
                return self._receipt("failed", started, attempts, error=str(error))
            return self._receipt("sent", started, attempts, provider_id=provider_id)

    @staticmethod
    def _receipt(status: ReceiptStatus, started: float, attempts: int, **fields) -> DeliveryReceipt:
        return DeliveryReceipt(
            status=status, attempts=attempts, started_at=started, finished_at=time.time(), **fields
        )
