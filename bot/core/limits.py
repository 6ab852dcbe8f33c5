"""Abuse limits: token buckets per user and per chat, a bounded queue for model work, admins.

Expensive work (a new article brief, a /digest) draws a token from the sender's
bucket and from the chat's bucket; a refusal says how long to wait. Work that
passes the buckets then takes a slot in :class:`WorkQueue`: a few requests run at
once, a bounded number wait in line (and are told their place), the rest are
refused — nothing is dropped silently.

The buckets are hand-written rather than taken from a rate-limit library because
they must take an injectable clock (tests advance time instead of sleeping) and
report the exact wait before anything is taken, across two buckets at once.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from bot.core.messages import Incoming
from config.settings import Settings

#: Seconds on a monotonic clock; tests pass a controllable one.
Monotonic = Callable[[], float]
OnWait = Callable[[int], Awaitable[None]]

Kind = Literal["work", "question"]


# --------------------------------------------------------------------------- token buckets


@dataclass
class _Level:
    tokens: float
    stamp: float


class TokenBuckets:
    """One token bucket per key: ``burst`` tokens, one more every ``refill_s`` seconds.

    A key's bucket is created full; full buckets are forgotten when there are more
    than ``max_keys`` of them, so memory stays bounded whatever the number of users.
    """

    def __init__(
        self, burst: int, refill_s: float, clock: Monotonic = time.monotonic, max_keys: int = 50_000
    ) -> None:
        self.burst = float(burst)
        self.refill_s = refill_s
        self.clock = clock
        self.max_keys = max_keys
        self._levels: OrderedDict[tuple[str, ...], _Level] = OrderedDict()

    def tokens(self, key: tuple[str, ...]) -> float:
        """Tokens in the bucket now."""
        level = self._levels.get(key)
        if level is None:
            return self.burst
        elapsed = max(0.0, self.clock() - level.stamp)
        return min(self.burst, level.tokens + elapsed / self.refill_s)

    def wait_s(self, key: tuple[str, ...], cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens are there (0.0: now)."""
        missing = cost - self.tokens(key)
        return 0.0 if missing <= 1e-9 else missing * self.refill_s

    def take(self, key: tuple[str, ...], cost: float = 1.0) -> None:
        self._set(key, self.tokens(key) - cost)

    def refund(self, key: tuple[str, ...], cost: float = 1.0) -> None:
        """Give back a token for work that never started (the queue was full)."""
        self._set(key, min(self.burst, self.tokens(key) + cost))

    def _set(self, key: tuple[str, ...], tokens: float) -> None:
        self._levels[key] = _Level(tokens, self.clock())
        self._levels.move_to_end(key)
        if len(self._levels) > self.max_keys:
            full = [k for k in self._levels if self.tokens(k) >= self.burst]
            for stale in full:
                del self._levels[stale]
            while len(self._levels) > self.max_keys:  # everyone is drained: drop the oldest
                self._levels.popitem(last=False)

    def __len__(self) -> int:
        return len(self._levels)


@dataclass(frozen=True)
class Refusal:
    """Why a request may not run yet and for how long."""

    wait_s: float
    scope: Literal["user", "chat"]

    def wait_text(self) -> str:
        """“12 s”, “2 min”: rounded up, so trying again then always works."""
        seconds = max(1, math.ceil(self.wait_s - 1e-6))
        if seconds < 90:
            return f"{seconds} s"
        return f"{math.ceil(seconds / 60)} min"


class RateLimits:
    """The buckets for one process: expensive work per user and per chat, questions per user."""

    def __init__(self, settings: Settings, clock: Monotonic = time.monotonic) -> None:
        self.user = TokenBuckets(settings.rate_user_burst, settings.rate_user_refill_s, clock)
        self.chat = TokenBuckets(settings.rate_chat_burst, settings.rate_chat_refill_s, clock)
        self.questions = TokenBuckets(
            settings.rate_question_burst, settings.rate_question_refill_s, clock
        )

    def acquire(self, message: Incoming, kind: Kind) -> Refusal | None:
        """Take the tokens ``kind`` costs, or take nothing and say how long to wait."""
        user, chat = user_key(message), (message.platform, message.chat_id)
        if kind == "question":
            wait = self.questions.wait_s(user)
            if wait > 0:
                return Refusal(wait, "user")
            self.questions.take(user)
            return None
        user_wait, chat_wait = self.user.wait_s(user), self.chat.wait_s(chat)
        if user_wait > 0 or chat_wait > 0:
            return Refusal(max(user_wait, chat_wait), "user" if user_wait >= chat_wait else "chat")
        self.user.take(user)
        self.chat.take(chat)
        return None

    def refund(self, message: Incoming, kind: Kind) -> None:
        if kind == "question":
            self.questions.refund(user_key(message))
        else:
            self.user.refund(user_key(message))
            self.chat.refund((message.platform, message.chat_id))


def user_key(message: Incoming) -> tuple[str, str]:
    """Who sent it; messages without a user (channel posts) count against their chat."""
    return (message.platform, message.user_id or f"chat:{message.chat_id}")


# --------------------------------------------------------------------------- the work queue


class QueueFullError(Exception):
    """Every running slot and every place in line is taken."""


class WorkQueue:
    """At most ``max_active`` requests run at once; up to ``max_waiting`` wait, first come first
    served; beyond that, :meth:`slot` refuses at once with :class:`QueueFullError`.

    This bounds whole requests (fetch, analysis, summary); :class:`summarizer.models.ModelService`
    still bounds the threads that run the models underneath.
    """

    def __init__(self, max_active: int, max_waiting: int) -> None:
        self.max_active = max_active
        self.max_waiting = max_waiting
        self.active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.served = 0
        self.refused = 0
        self.waited = 0

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    @asynccontextmanager
    async def slot(self, on_wait: OnWait | None = None) -> AsyncIterator[None]:
        """Hold a running slot; ``on_wait(place)`` is awaited first when the caller must wait."""
        if self.active < self.max_active and not self.waiting:
            self.active += 1
        else:
            if self.waiting >= self.max_waiting:
                self.refused += 1
                raise QueueFullError
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            self.waited += 1
            try:
                if on_wait is not None:
                    await on_wait(self.waiting)
                await waiter  # the slot is handed over by _release, already counted in active
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # we were handed a slot we will not use
                else:
                    waiter.cancel()
                    self._drop_done()
                raise
        self.served += 1
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        self._drop_done()
        if self._waiters:
            self._waiters.popleft().set_result(None)  # the slot passes on: active unchanged
        else:
            self.active -= 1

    def _drop_done(self) -> None:
        self._waiters = deque(waiter for waiter in self._waiters if not waiter.done())


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 22nd."""
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


# --------------------------------------------------------------------------- operators


def admin_id(message: Incoming) -> str:
    """How NEWSBRIEF_ADMINS names a user: ``telegram:123456``, ``slack:U012ABC``."""
    return f"{message.platform}:{message.user_id}"


def is_admin(admins: Collection[str], message: Incoming) -> bool:
    return bool(message.user_id) and admin_id(message) in admins
