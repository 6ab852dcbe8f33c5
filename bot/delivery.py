"""Daily briefs: the scheduler loop, idempotent claims, rate-limited fan-out, senders.

The database decides what is due (``subscribers.next_run_at``, recomputed from
the stored local time and IANA zone after every brief, so 07:30 stays 07:30
across DST). A brief is claimed by inserting its ``(subscriber, local date)``
delivery row with ``INSERT … ON CONFLICT DO NOTHING`` in the same transaction
that advances the schedule: whichever process inserts the row owns the brief, so
two bot processes sharing one database never both send it. A claimed row carries
a lease; if its owner dies before marking it sent, another pass takes it over
once the lease has expired, which resumes an interrupted fan-out. Right before
its first request a brief is marked ``sending``; one still ``sending`` after a
crash may or may not have arrived and becomes ``uncertain`` instead of being sent
again (never twice; tests/crash measures it). Cancelling a running pass lets
briefs already being sent finish and be recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO

import httpx
from sqlalchemy import Table, and_, bindparam, exists, select, update
from sqlalchemy.exc import DBAPIError

from bot.core.messages import Reply, plain_text, text_reply
from bot.feeds import FeedPoller
from bot.storage.config import Clock, DeliverySettings
from bot.storage.db import Database
from bot.storage.models import Delivery, Feed, Subscriber, Subscription
from bot.storage.repository import insert_ignore, local_date, next_run
from bot.stories import StoryService, compose_digest, load_pool, load_profiles, rank
from summarizer.briefing import Brief

if TYPE_CHECKING:
    from bot.observability import Metrics

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
ChatKey = tuple[str, str, str]
Remember = Callable[[ChatKey, Sequence[Brief]], None]


# --------------------------------------------------------------------------- senders


@dataclass(frozen=True)
class Target:
    platform: str
    chat_id: str
    thread_id: str = ""


@dataclass(frozen=True)
class SendResult:
    """ok; retry_after (seconds to wait, nothing was sent); blocked (chat refuses us); failed
    (nothing reached the chat: safe to retry); uncertain (the request may have arrived: a
    timeout waiting for the answer, or a later part of a long brief failed)."""

    status: Literal["ok", "retry_after", "blocked", "failed", "uncertain"]
    retry_after_s: float = 0.0
    detail: str = ""
    refs: tuple[str, ...] = ()  # platform message ids (Slack ts: threads for follow-ups)

    @classmethod
    def ok(cls, *refs: str) -> SendResult:
        return cls("ok", refs=refs)

    @classmethod
    def retry_after(cls, seconds: float, detail: str = "") -> SendResult:
        return cls("retry_after", retry_after_s=max(0.0, seconds), detail=detail)

    @classmethod
    def blocked(cls, detail: str = "") -> SendResult:
        return cls("blocked", detail=detail)

    @classmethod
    def failed(cls, detail: str = "") -> SendResult:
        return cls("failed", detail=detail)

    @classmethod
    def uncertain(cls, detail: str = "") -> SendResult:
        return cls("uncertain", detail=detail)


#: Errors raised before a request left this machine: nothing can have reached the chat.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def _unreachable(service: str, error: Exception) -> SendResult:
    """A failed request: safe to retry only when it never left; else it may have arrived."""
    detail = f"{service} unreachable ({type(error).__name__})"
    if isinstance(error, (*_NOT_SENT, ValueError)):
        return SendResult.failed(detail)
    return SendResult.uncertain(detail)


def _partial(result: SendResult, index: int) -> SendResult:
    """A later part of a long brief failed: its first parts are in the chat, do not resend."""
    if index > 0 and result.status == "failed":
        return SendResult.uncertain(f"part {index + 1} not sent: {result.detail}")
    return result


#: Awaited by a sender right before its first request for a brief (after rate limiting);
#: False means "do not send" (the brief is no longer this process's to send).
BeforeSend = Callable[[], Awaitable[bool]]


class Sender(Protocol):
    """Delivers one neutral reply to one chat (possibly as several platform messages)."""

    async def send(
        self, target: Target, reply: Reply, *, before: BeforeSend | None = None
    ) -> SendResult: ...


class RateLimiter:
    """Reserves send slots: an overall rate, a minimum gap per chat, and pauses after 429s."""

    def __init__(
        self,
        per_second: float = 0.0,
        per_chat_s: float = 0.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.per_second = per_second
        self.per_chat_s = per_chat_s
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._paused_until = 0.0
        self._chats: dict[str, float] = {}

    async def wait(self, chat: str) -> None:
        now = self._clock()
        slot = max(now, self._paused_until)
        if self.per_second > 0:
            slot = max(slot, self._next)
            self._next = slot + 1.0 / self.per_second
        if self.per_chat_s > 0:
            slot = max(slot, self._chats.get(chat, 0.0))
            self._chats[chat] = slot + self.per_chat_s
            if len(self._chats) > 50_000:
                self._chats = {k: v for k, v in self._chats.items() if v > now}
        if slot > now:
            await self._sleep(slot - now)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)


async def _no_wait(_chat: str) -> None:
    return None


NOT_OURS = "not sent: the brief was taken over by another process"
INTERRUPTED = (
    "interrupted while sending (the process stopped); not resent, as it may already have arrived"
)


class TelegramSender:
    """Bot API ``sendMessage`` with the Telegram adapter's HTML rendering."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_url: str,
        token: str,
        limiter: RateLimiter | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.http = http
        self.url = f"{api_url}{token}/sendMessage"
        self.limiter = limiter
        self.sleep = sleep

    async def send(
        self, target: Target, reply: Reply, *, before: BeforeSend | None = None
    ) -> SendResult:
        from bot.telegram import callback_data, render_html

        parts = render_html(reply)
        buttons = [
            {"text": b.label, "callback_data": callback_data(b.payload)} for b in reply.buttons
        ]
        refs: list[str] = []
        for index, part in enumerate(parts):
            payload: dict[str, Any] = {
                "chat_id": target.chat_id,
                "text": part,
                "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": True},
            }
            if target.thread_id:
                payload["message_thread_id"] = int(target.thread_id)
            if index == len(parts) - 1 and buttons:
                payload["reply_markup"] = {
                    "inline_keyboard": [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
                }
            for _attempt in range(5):
                await (
                    self.limiter.wait(target.chat_id) if self.limiter else _no_wait(target.chat_id)
                )
                if before is not None and not await before():
                    return SendResult.failed(NOT_OURS)
                result = await self._post(payload)
                if result.status == "retry_after" and index > 0:  # keep the parts together
                    if self.limiter:
                        self.limiter.pause(result.retry_after_s)
                    await self.sleep(result.retry_after_s)
                    continue
                break
            if result.status != "ok":
                return _partial(result, index)
            refs.extend(result.refs)
        return SendResult.ok(*refs)

    async def _post(self, payload: dict[str, Any]) -> SendResult:
        try:
            response = await self.http.post(self.url, json=payload)
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            return _unreachable("Bot API", error)
        if not isinstance(body, dict):
            return SendResult.failed(f"Bot API answered HTTP {response.status_code}")
        if body.get("ok"):
            return SendResult.ok(str((body.get("result") or {}).get("message_id", "")))
        code = int(body.get("error_code") or response.status_code)
        description = str(body.get("description") or "")
        if code == 429:
            retry = float((body.get("parameters") or {}).get("retry_after") or 1)
            return SendResult.retry_after(retry, description)
        lowered = description.lower()
        if code == 403 or (
            code == 400 and ("chat not found" in lowered or "deactivated" in lowered)
        ):
            return SendResult.blocked(description)
        return SendResult.failed(description or f"HTTP {code}")


_SLACK_GONE = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "account_inactive",
    "user_disabled",
}


class SlackSender:
    """Web API ``chat.postMessage`` with the Slack adapter's Block Kit rendering."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_url: str,
        token: str,
        limiter: RateLimiter | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.http = http
        self.url = f"{api_url.rstrip('/')}/chat.postMessage"
        self.token = token
        self.limiter = limiter
        self.sleep = sleep

    async def send(
        self, target: Target, reply: Reply, *, before: BeforeSend | None = None
    ) -> SendResult:
        from bot.slack import (
            SUBCOMMANDS_NO_ARGS,
            SUBCOMMANDS_WITH_ARGS,
            render_messages,
            slack_commands,
        )
        from bot.subscriptions import SubscriptionCommands

        # Slack has one slash command: "send /digest any time" reads "/brief digest" there.
        words = SUBCOMMANDS_NO_ARGS | SUBCOMMANDS_WITH_ARGS | SubscriptionCommands.commands
        refs: list[str] = []
        for index, message in enumerate(render_messages(slack_commands(reply, words))):
            payload: dict[str, Any] = {
                "channel": target.chat_id,
                "text": message.text,
                "blocks": message.blocks,
                "unfurl_links": False,
                "unfurl_media": False,
            }
            if target.thread_id:
                payload["thread_ts"] = target.thread_id
            elif refs:
                payload["thread_ts"] = refs[0]  # a long brief continues in its own thread
            for _attempt in range(5):
                await (
                    self.limiter.wait(target.chat_id) if self.limiter else _no_wait(target.chat_id)
                )
                if before is not None and not await before():
                    return SendResult.failed(NOT_OURS)
                result = await self._post(payload)
                if result.status == "retry_after" and index > 0:
                    if self.limiter:
                        self.limiter.pause(result.retry_after_s)
                    await self.sleep(result.retry_after_s)
                    continue
                break
            if result.status != "ok":
                return _partial(result, index)
            refs.extend(result.refs)
        return SendResult.ok(*refs)

    async def _post(self, payload: dict[str, Any]) -> SendResult:
        try:
            response = await self.http.post(
                self.url,
                json=payload,
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json; charset=utf-8",
                },
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            return _unreachable("Slack", error)
        if response.status_code == 429 or (
            isinstance(body, dict) and body.get("error") == "ratelimited"
        ):
            try:
                retry = float(response.headers.get("retry-after") or 1)
            except ValueError:
                retry = 1.0
            return SendResult.retry_after(retry, "ratelimited")
        if not isinstance(body, dict):
            return SendResult.failed(f"Slack answered HTTP {response.status_code}")
        if body.get("ok"):
            return SendResult.ok(str(body.get("ts") or ""))
        code = str(body.get("error") or f"HTTP {response.status_code}")
        return SendResult.blocked(code) if code in _SLACK_GONE else SendResult.failed(code)


@dataclass
class MemorySender:
    """Keeps what it was asked to send (tests, benchmarks); ``script`` answers per chat first."""

    delay_s: float = 0.0
    sent: list[tuple[Target, Reply]] = field(default_factory=list)
    script: dict[str, list[SendResult]] = field(default_factory=dict)

    async def send(
        self, target: Target, reply: Reply, *, before: BeforeSend | None = None
    ) -> SendResult:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if before is not None and not await before():
            return SendResult.failed(NOT_OURS)
        queued = self.script.get(target.chat_id)
        if queued:
            result = queued.pop(0)
            if result.status != "ok":
                return result
        self.sent.append((target, reply))
        return SendResult.ok(str(len(self.sent)))

    def to(self, chat_id: str) -> list[Reply]:
        return [reply for target, reply in self.sent if target.chat_id == chat_id]


@dataclass
class ConsoleSender:
    """Prints briefs as plain text (``newsbrief`` console mode and demos)."""

    stream: TextIO

    async def send(
        self, target: Target, reply: Reply, *, before: BeforeSend | None = None
    ) -> SendResult:
        if before is not None and not await before():
            return SendResult.failed(NOT_OURS)
        self.stream.write(f"--- to {target.platform}:{target.chat_id}\n{plain_text(reply)}\n")
        return SendResult.ok()


def platform_senders(
    http: httpx.AsyncClient,
    config: DeliverySettings,
    *,
    telegram: tuple[str, str] | None = None,
    slack: tuple[str, str] | None = None,
) -> dict[str, Sender]:
    """Senders for the configured platforms, each with its platform's rate limits.

    ``telegram``/``slack`` are ``(api_url, token)`` pairs (settings.telegram_api_url, ...).
    """
    senders: dict[str, Sender] = {}
    if telegram:
        limiter = RateLimiter(config.telegram_rate_per_s, config.telegram_chat_interval_s)
        senders["telegram"] = TelegramSender(http, telegram[0], telegram[1], limiter)
    if slack:
        limiter = RateLimiter(config.slack_rate_per_s, config.slack_chat_interval_s)
        senders["slack"] = SlackSender(http, slack[0], slack[1], limiter)
    return senders


# --------------------------------------------------------------------------- scheduler


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    cancelled: int = 0
    blocked: int = 0
    failed: int = 0
    #: Briefs whose request may or may not have arrived: recorded, never sent again.
    uncertain: int = 0
    retried: int = 0
    compose_s: float = 0.0


@dataclass(frozen=True)
class _Job:
    delivery_id: int
    subscriber_id: int


@dataclass(frozen=True)
class _Work:
    """A composed brief waiting to be sent."""

    job: _Job
    subscriber: Subscriber
    reply: Reply
    story_ids: list[int]

    @property
    def target(self) -> Target:
        s = self.subscriber
        return Target(s.platform, s.chat_id, s.thread_id)


@dataclass(frozen=True)
class _Outcome:
    """What became of one brief: sent, cancelled, blocked, failed (final) or retry (later)."""

    item: _Work
    status: Literal["sent", "cancelled", "blocked", "failed", "uncertain", "retry"]
    detail: str = ""
    refs: tuple[str, ...] = ()


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class BriefScheduler:
    """Polls feeds, ingests stories and sends due briefs; run one or many against one database."""

    def __init__(
        self,
        db: Database,
        config: DeliverySettings,
        senders: Mapping[str, Sender],
        now: Clock,
        *,
        stories: StoryService | None = None,
        poller: FeedPoller | None = None,
        remember: Remember | None = None,
        owner: str | None = None,
        sleep: Sleep = asyncio.sleep,
        batch: int = 500,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics  # briefs sent / failed / blocked (serve mode)
        self.config = config
        self.senders = dict(senders)
        self.now = now
        self.stories = stories
        self.poller = poller
        self.remember = remember
        self.owner = owner or default_owner()
        self.sleep = sleep
        self.batch = batch
        self._stopping = False

    # --- loops ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Poll and deliver until ``stop`` is set; errors are logged, never fatal."""
        await asyncio.gather(self._loop(stop, self.poll_feeds), self._loop(stop, self.deliver_due))

    async def _loop(self, stop: asyncio.Event, step: Callable[[], Awaitable[Any]]) -> None:
        while not stop.is_set():
            try:
                await step()
            except (DBAPIError, OSError, httpx.HTTPError) as error:
                log.error("%s failed: %s", getattr(step, "__name__", "step"), error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.config.scheduler_tick_s)

    async def run_once(self) -> DeliveryReport:
        """One polling pass and one delivery pass (tests drive the clock between calls)."""
        await self.poll_feeds()
        return await self.deliver_due()

    # --- feeds ------------------------------------------------------------------------------

    async def poll_feeds(self) -> int:
        """Poll due feeds, ingest their new items, tell subscribers of newly failing feeds once."""
        if self.poller is None:
            return 0
        report = await self.poller.poll_due()
        new = await self.stories.ingest(report) if self.stories else []
        for feed in report.failing:
            await self._report_failing(feed)
        return len(new)

    async def _report_failing(self, feed: Feed) -> None:
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(Subscriber.platform, Subscriber.chat_id, Subscriber.thread_id)
                .join(Subscription, Subscription.subscriber_id == Subscriber.id)
                .where(Subscription.feed_id == feed.id, Subscriber.active.is_(True))
            )
            targets = [Target(p, c, t) for p, c, t in rows]
        name = feed.title or feed.url
        notice = text_reply(
            f"I couldn't read the feed “{name}” {feed.failures} times in a row "
            f"({feed.last_error}).",
            f"I'll keep trying, less often. To drop it: /unsubscribe {feed.url}",
        )
        for target in targets:
            sender = self.senders.get(target.platform)
            if sender is not None:
                await self._send(sender, target, notice)

    # --- deliveries -------------------------------------------------------------------------

    async def deliver_due(self) -> DeliveryReport:
        """Claim due briefs and expired leases, then send them."""
        report = DeliveryReport()
        self._stopping = False
        jobs = await self._claim_due(report) + await self._take_over_expired()
        report.claimed = len(jobs)
        try:
            for start in range(0, len(jobs), self.batch):
                await self._fan_out(jobs[start : start + self.batch], report)
        finally:  # also what a pass cut short by shutdown did send
            if self.metrics is not None:
                self.metrics.delivery_pass(report)
        return report

    async def _claim_due(self, report: DeliveryReport) -> list[_Job]:
        now = self.now()
        jobs: list[_Job] = []
        table = Delivery.__table__
        assert isinstance(table, Table)
        while True:
            async with self.db.sessions() as session:
                result = await session.execute(
                    select(
                        Subscriber.id,
                        Subscriber.local_time,
                        Subscriber.timezone,
                        Subscriber.next_run_at,
                    )
                    .where(
                        Subscriber.next_run_at <= now,
                        Subscriber.active.is_(True),
                        Subscriber.paused.is_(False),
                    )
                    .order_by(Subscriber.next_run_at, Subscriber.id)
                    .limit(self.batch)
                )
                due = result.all()
            if not due:
                return jobs
            claims: list[dict[str, Any]] = []
            advances: list[dict[str, Any]] = []
            for subscriber_id, local_time, zone, scheduled in due:
                assert scheduled is not None  # the query selects due rows only
                today = local_date(zone, now)
                if local_date(zone, scheduled) == today:
                    claims.append(
                        {
                            "subscriber_id": subscriber_id,
                            "local_date": today,
                            "status": "claimed",
                            "owner": self.owner,
                            "lease_until": now + timedelta(seconds=self.config.delivery_lease_s),
                            "attempts": 1,
                            "story_ids": [],
                            "created_at": now,
                        }
                    )
                else:  # missed on an earlier local day (we were down): never sent late
                    report.skipped += 1
                advances.append(
                    {
                        "id": subscriber_id,
                        "next_run_at": next_run(local_time, zone, max(now, scheduled))[0],
                    }
                )
            try:
                async with self.db.transaction() as session:
                    dialect = session.get_bind().dialect.name
                    if claims:
                        inserted = await session.execute(
                            insert_ignore(dialect, table, ["subscriber_id", "local_date"])
                            .values(claims)
                            .returning(table.c.id, table.c.subscriber_id)
                        )
                        jobs.extend(_Job(int(d), int(s)) for d, s in inserted.all())
                    await session.execute(update(Subscriber), advances)
            except DBAPIError as error:  # e.g. a deadlock with a peer: the next pass retries
                log.warning("claiming briefs failed, retrying next pass: %s", error.orig)
                return jobs

    async def _take_over_expired(self) -> list[_Job]:
        """Claimed rows whose owner did not finish in time (crash, transient failure).

        A row still ``sending`` after its lease was cut off mid-request (the process died
        between sending and recording): the brief may have reached the chat, and Telegram
        and Slack cannot be asked. It becomes ``uncertain`` and is not sent again, because a
        brief twice is the promise we make never to break; only such rows can be missed.
        """
        now = self.now()
        await self._give_up_interrupted(now)
        async with self.db.transaction() as session:
            query = (
                select(Delivery.id)
                .where(Delivery.status == "claimed", Delivery.lease_until < now)
                .order_by(Delivery.id)
                .limit(self.batch)
            )
            if self.db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list((await session.execute(query)).scalars())
            if not ids:
                return []
            result = await session.execute(
                update(Delivery)
                .where(
                    Delivery.id.in_(ids), Delivery.status == "claimed", Delivery.lease_until < now
                )
                .values(  # attempts count failed sends, not take-overs (a crash loop resumes)
                    owner=self.owner,
                    lease_until=now + timedelta(seconds=self.config.delivery_lease_s),
                )
                .returning(Delivery.id, Delivery.subscriber_id, Delivery.attempts)
            )
            rows = result.all()
        jobs = []
        for delivery_id, subscriber_id, attempts in rows:
            if attempts > self.config.delivery_attempts:
                await self._finish(delivery_id, "failed", detail="too many attempts")
            else:
                jobs.append(_Job(int(delivery_id), int(subscriber_id)))
        return jobs

    async def _give_up_interrupted(self, now: datetime) -> None:
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    update(Delivery)
                    .where(Delivery.status == "sending", Delivery.lease_until < now)
                    .values(status="uncertain", lease_until=None, detail=INTERRUPTED[:500])
                    .returning(Delivery.id, Delivery.subscriber_id)
                )
            ).all()
        for delivery_id, subscriber_id in rows:
            log.warning("brief %s (subscriber %s): %s", delivery_id, subscriber_id, INTERRUPTED)

    async def _mark_sending(self, delivery_id: int) -> bool:
        """Record, right before the first request, that this brief may now reach the chat."""
        lease = timedelta(seconds=self.config.delivery_lease_s)
        async with self.db.transaction() as session:
            result = await session.execute(
                update(Delivery)
                .where(
                    Delivery.id == delivery_id,
                    Delivery.owner == self.owner,
                    Delivery.status == "claimed",
                )
                .values(status="sending", lease_until=self.now() + lease)
            )
        return bool(getattr(result, "rowcount", 0))

    async def _fan_out(self, jobs: Sequence[_Job], report: DeliveryReport) -> None:
        started = time.perf_counter()
        now = self.now()
        async with self.db.sessions() as session:
            result = await session.execute(
                select(Subscriber).where(Subscriber.id.in_([job.subscriber_id for job in jobs]))
            )
            subscribers = {s.id: s for s in result.scalars()}
        window = timedelta(hours=self.config.digest_window_h)
        since = {
            sid: max(s.last_brief_at, now - 2 * window) if s.last_brief_at else now - window
            for sid, s in subscribers.items()
        }
        pool = await load_pool(self.db, min(since.values(), default=now))
        profiles = await load_profiles(
            self.db,
            [(sid, s.stories, s.topics or [], since[sid]) for sid, s in subscribers.items()],
        )
        work: list[_Work] = []
        for job in jobs:
            subscriber = subscribers.get(job.subscriber_id)
            if subscriber is None:
                continue
            ranked = rank(pool, profiles[subscriber.id], now)
            day = local_date(subscriber.timezone, now)
            work.append(
                _Work(job, subscriber, compose_digest(ranked, day), [r.story.id for r in ranked])
            )
        report.compose_s += time.perf_counter() - started
        # Database work is per chunk, not per brief: one "still wanted?" read before the
        # chunk is sent and one transaction recording every outcome after it. A chunk is a
        # few sends per worker, so a crash re-sends at most that many (after their lease).
        chunk = max(1, self.config.fanout_concurrency) * 2
        for start in range(0, len(work), chunk):
            if self._stopping:
                return
            await self._send_chunk(work[start : start + chunk], report)

    async def _send_chunk(self, work: Sequence[_Work], report: DeliveryReport) -> None:
        wanted = await self._still_wanted([item.job.delivery_id for item in work])
        outcomes: list[_Outcome] = []
        sending: list[_Work] = []
        for item in work:
            state = wanted.get(item.job.delivery_id)
            if state is None:
                continue  # taken over by another process, or done
            if not state:
                report.cancelled += 1
                outcomes.append(_Outcome(item, "cancelled", "unsubscribed or paused"))
            elif item.subscriber.platform not in self.senders:
                report.failed += 1
                outcomes.append(
                    _Outcome(item, "failed", f"no sender for {item.subscriber.platform}")
                )
            else:
                sending.append(item)
        semaphore = asyncio.Semaphore(self.config.fanout_concurrency)

        async def one(item: _Work) -> None:
            async with semaphore:
                if not self._stopping:
                    outcomes.append(await self._deliver(item, report))

        tasks = [asyncio.create_task(one(item)) for item in sending]
        try:
            if tasks:
                await asyncio.wait(tasks)
        except asyncio.CancelledError:
            # Let briefs already being sent finish and be recorded; the rest stay claimed
            # and are resumed (after their lease) by the next pass or another process.
            self._stopping = True
            await asyncio.wait(tasks, timeout=30)
            await self._record_shielded(outcomes)
            raise
        await self._record_shielded(outcomes)
        for outcome in outcomes:
            if outcome.status == "sent":
                await self._remember(outcome.item.target, outcome.item.story_ids, outcome.refs)

    async def _still_wanted(self, delivery_ids: Sequence[int]) -> dict[int, bool]:
        """The latest word before sending: our claims still open, and whether still subscribed."""
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(
                    Delivery.id,
                    Subscriber.active,
                    Subscriber.paused,
                    exists().where(Subscription.subscriber_id == Subscriber.id),
                )
                .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                .where(
                    Delivery.id.in_(delivery_ids),
                    Delivery.status == "claimed",
                    Delivery.owner == self.owner,
                )
            )
            return {
                int(did): bool(active and not paused and subscribed)
                for did, active, paused, subscribed in rows
            }

    async def _deliver(self, item: _Work, report: DeliveryReport) -> _Outcome:
        sender = self.senders[item.subscriber.platform]
        marked: bool | None = None

        async def before() -> bool:  # once, however often the send is retried
            nonlocal marked
            if marked is None:
                marked = await self._mark_sending(item.job.delivery_id)
            return marked

        result = await self._send(sender, item.target, item.reply, report, before=before)
        if marked is False:
            return _Outcome(item, "retry", NOT_OURS)  # recorded only where still ours: a no-op
        if result.status == "ok":
            report.sent += 1
            return _Outcome(item, "sent", refs=result.refs)
        if result.status == "blocked":
            report.blocked += 1
            return _Outcome(item, "blocked", result.detail)
        if result.status == "uncertain":  # may be in the chat: never sent twice, logged
            report.uncertain += 1
            log.warning("brief %s may not have arrived: %s", item.job.delivery_id, result.detail)
            return _Outcome(item, "uncertain", result.detail)
        # failed or still rate limited: retried by a later pass after a short lease
        report.failed += 1
        return _Outcome(item, "retry", result.detail)

    async def _record_shielded(self, outcomes: Sequence[_Outcome]) -> None:
        """Record outcomes even if the pass is being cancelled: a sent brief stays sent."""
        if not outcomes:
            return
        task = asyncio.ensure_future(self._record(outcomes))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            await asyncio.wait([task], timeout=30)
            raise

    async def _record(self, outcomes: Sequence[_Outcome]) -> None:
        """Every outcome of a chunk in one transaction (only rows this process still owns)."""
        now = self.now()
        table = Delivery.__table__
        assert isinstance(table, Table)
        mine = and_(table.c.id == bindparam("delivery_id"), table.c.owner == self.owner)
        final = [o for o in outcomes if o.status != "retry"]
        retry = [o for o in outcomes if o.status == "retry"]
        sent = [o for o in outcomes if o.status == "sent"]
        blocked = [o.item.subscriber.id for o in outcomes if o.status == "blocked"]
        async with self.db.transaction() as session:
            if final:
                await session.execute(
                    update(table)
                    .where(mine)
                    .values(
                        status=bindparam("new_status"),
                        lease_until=None,
                        detail=bindparam("new_detail"),
                        sent_at=bindparam("new_sent_at"),
                        story_ids=bindparam("new_story_ids"),
                    ),
                    [
                        {
                            "delivery_id": o.item.job.delivery_id,
                            "new_status": o.status,
                            "new_detail": o.detail or None,
                            "new_sent_at": now if o.status == "sent" else None,
                            "new_story_ids": o.item.story_ids if o.status == "sent" else [],
                        }
                        for o in final
                    ],
                )
            if retry:
                await session.execute(
                    update(table)
                    .where(mine)
                    .values(  # back to claimed: nothing reached the chat, try again later
                        status="claimed",
                        attempts=table.c.attempts + 1,
                        lease_until=now + timedelta(seconds=60),
                        detail=bindparam("new_detail"),
                    ),
                    [
                        {"delivery_id": o.item.job.delivery_id, "new_detail": o.detail[:500]}
                        for o in retry
                    ],
                )
            if sent:
                await session.execute(
                    update(Subscriber)
                    .where(Subscriber.id.in_([o.item.subscriber.id for o in sent]))
                    .values(last_brief_at=now)
                )
            if blocked:
                await session.execute(
                    update(Subscriber)
                    .where(Subscriber.id.in_(blocked))
                    .values(active=False, next_run_at=None)
                )

    async def _send(
        self,
        sender: Sender,
        target: Target,
        reply: Reply,
        report: DeliveryReport | None = None,
        *,
        before: BeforeSend | None = None,
    ) -> SendResult:
        result = SendResult.failed("not sent")
        for _attempt in range(5):
            result = await sender.send(target, reply, before=before)
            if result.status != "retry_after":
                return result
            if report:
                report.retried += 1
            await self.sleep(min(result.retry_after_s, 60.0) + 0.05)
        return result

    async def _finish(self, delivery_id: int, status: str, *, detail: str | None = None) -> None:
        """Close one claim without sending (e.g. too many attempts)."""
        async with self.db.transaction() as session:
            await session.execute(
                update(Delivery)
                .where(and_(Delivery.id == delivery_id, Delivery.owner == self.owner))
                .values(status=status, lease_until=None, detail=detail)
            )

    async def _remember(self, target: Target, story_ids: list[int], refs: Sequence[str]) -> None:
        """Keep the delivered stories in the chat so follow-up questions work."""
        if self.remember is None or self.stories is None or not story_ids:
            return
        briefs = await self.stories.briefs_for(story_ids)
        if not briefs:
            return
        keys = {(target.platform, target.chat_id, target.thread_id)}
        if target.platform == "slack":
            keys.update((target.platform, target.chat_id, ref) for ref in refs[:1] if ref)
        for key in keys:
            self.remember(key, briefs)


def today_for(subscriber: Subscriber, now: datetime) -> date:
    return local_date(subscriber.timezone, now)
