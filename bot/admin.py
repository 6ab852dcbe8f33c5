"""Operator commands: a :class:`bot.core.chat.CommandPlugin` for the IDs in NEWSBRIEF_ADMINS.

/stats, /broadcast <text>, /feeds, /feed_remove <url>, /feed_retry <url>. Anyone
else gets the ordinary "unknown command" reply, so the commands are not revealed.
Destructive or far-reaching actions (a broadcast, removing a feed) ask for a
confirming button press first; a confirmation is used once, so a double tap
never sends twice.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, delete, exists, func, select, update

from bot.core.chat import Notify, unknown_command
from bot.core.limits import Monotonic, is_admin
from bot.core.messages import Bullets, Button, Context, Heading, Incoming, Reply, Text, text_reply
from bot.delivery import Sender, SendResult, Sleep, Target
from bot.storage.config import Clock, DeliverySettings
from bot.storage.db import Database
from bot.storage.models import Delivery, Feed, Story, StorySource, Subscriber, Subscription
from bot.storage.repository import reschedule

if TYPE_CHECKING:
    from bot.core.chat import ChatCore, Session

log = logging.getLogger(__name__)

#: How long a confirmation button stays valid.
CONFIRM_TTL_S = 600.0
FEEDS_SHOWN = 25
BROADCAST_MAX_CHARS = 3500  # one Telegram message, with room for escaping


@dataclass
class _Pending:
    """An action waiting for its confirming button press."""

    action: str  # "broadcast" | "remove"
    created: float
    text: str = ""
    feed_id: int = 0
    feed_name: str = ""


@dataclass
class FanOut:
    """How a broadcast went: each target counted once."""

    sent: int = 0
    blocked: int = 0
    failed: int = 0
    no_sender: int = 0
    blocked_ids: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.sent + self.blocked + self.failed + self.no_sender


class AdminCommands:
    """/stats, /broadcast, /feeds, /feed_remove, /feed_retry; buttons with the "a:" prefix."""

    commands = frozenset({"stats", "broadcast", "feeds", "feed_remove", "feed_retry"})
    button_prefix = "a"

    def __init__(
        self,
        db: Database,
        config: DeliverySettings,
        admins: Collection[str],
        now: Clock,
        *,
        senders: Mapping[str, Sender] | None = None,
        core: ChatCore | None = None,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.db = db
        self.config = config
        self.admins = frozenset(admins)
        self.now = now
        self.senders = dict(senders or {})
        #: The chat core, for chats in memory, the work queue and the models (set by the app).
        self.core = core
        self.monotonic = monotonic
        self.sleep = sleep
        self.started = monotonic()
        self._pending: dict[str, _Pending] = {}

    async def handle(self, message: Incoming, session: Session) -> list[Reply]:
        command = (message.command or "").lower()
        if not is_admin(self.admins, message):
            if message.button:
                return [text_reply("That button has expired.")]
            return unknown_command(command)
        if message.button:
            return await self._button(message.button.partition(":")[2])
        args = message.args.strip()
        if command == "stats":
            return [await self.stats()]
        if command == "broadcast":
            return [await self._ask_broadcast(args)]
        if command == "feeds":
            return [await self.feeds()]
        if command == "feed_remove":
            return [await self._ask_remove(args)]
        return [await self._retry(args)]

    # --- /stats ---------------------------------------------------------------------------

    async def stats(self) -> Reply:
        """What an operator checks first: load, subscribers, feeds, today's deliveries."""
        now = self.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        async with self.db.sessions() as session:

            async def count(*where: ColumnElement[bool]) -> int:
                query = select(func.count()).select_from(Subscriber).where(*where)
                return int((await session.execute(query)).scalar_one())

            total = await count()
            active = await count(*_active_subscriber())
            paused = await count(Subscriber.active.is_(True), Subscriber.paused.is_(True))
            gone = await count(Subscriber.active.is_(False))
            feeds = int(
                (await session.execute(select(func.count()).select_from(Feed))).scalar_one()
            )
            failing = int(
                (
                    await session.execute(
                        select(func.count())
                        .select_from(Feed)
                        .where(Feed.failures >= self.config.feed_failures_before_notice)
                    )
                ).scalar_one()
            )
            stories = int(
                (await session.execute(select(func.count()).select_from(Story))).scalar_one()
            )
            recent = int(
                (
                    await session.execute(
                        select(func.count())
                        .select_from(Story)
                        .where(Story.first_seen_at >= now - timedelta(hours=24))
                    )
                ).scalar_one()
            )
            by_status = await session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.created_at >= midnight)
                .group_by(Delivery.status)
            )
            statuses = {str(status): int(count) for status, count in by_status.all()}
        lines = [
            f"Up for {duration(self.monotonic() - self.started)}",
            f"Subscribers: {active} active, {paused} paused, {gone} blocked the bot "
            f"({total} chats in all)",
            f"Feeds: {feeds}, {failing} failing",
            f"Stories: {stories}, {recent} new in the last 24 h",
            f"Daily briefs today (UTC): {statuses.get('sent', 0)} sent, "
            f"{statuses.get('failed', 0)} failed, {statuses.get('blocked', 0)} blocked, "
            f"{statuses.get('uncertain', 0)} may not have arrived, "
            f"{statuses.get('claimed', 0) + statuses.get('sending', 0)} being sent",
        ]
        if self.core is not None:
            work = self.core.work
            lines.append(
                f"Chats in memory: {len(self.core.sessions)} "
                f"(of {self.core.settings.chat_sessions_max:,})"
            )
            lines.append(
                f"Model work: {work.active} running (limit {work.max_active}), "
                f"{work.waiting} waiting (limit {work.max_waiting}); "
                f"{work.served} served, {work.waited} had to wait, {work.refused} turned away"
            )
            loaded = self.core.models.loaded()
            lines.append(
                "Models: "
                + ", ".join(
                    f"{name} {'loaded' if ok else 'not loaded yet'}" for name, ok in loaded.items()
                )
            )
        return Reply((Heading("NewsBrief status"), Bullets(tuple(lines))))

    # --- /broadcast -----------------------------------------------------------------------

    async def _ask_broadcast(self, text: str) -> Reply:
        if not text:
            return text_reply(
                "What should I send? /broadcast <text> — it goes to every subscriber."
            )
        if len(text) > BROADCAST_MAX_CHARS:
            return text_reply(
                f"That is {len(text)} characters; a broadcast may have {BROADCAST_MAX_CHARS}."
            )
        targets = await self.broadcast_targets()
        if not targets:
            return text_reply("There are no active subscribers to send to.")
        token = self._remember(_Pending("broadcast", self.monotonic(), text=text))
        return Reply(
            (
                Heading(f"Send this to {len(targets)} subscribers?"),
                Text(text),
                Context("Nothing is sent until you confirm."),
            ),
            (Button(f"Send to {len(targets)}", f"a:bc:{token}"), Button("Cancel", f"a:no:{token}")),
        )

    async def broadcast_targets(self) -> list[tuple[int, Target]]:
        """Every active subscriber (not paused, not blocked, with at least one feed), once."""
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(Subscriber.id, Subscriber.platform, Subscriber.chat_id, Subscriber.thread_id)
                .where(*_active_subscriber())
                .order_by(Subscriber.id)
            )
            return [(int(sid), Target(p, c, t or "")) for sid, p, c, t in rows]

    async def broadcast(self, text: str) -> FanOut:
        return await self.fan_out(await self.broadcast_targets(), text_reply(text))

    async def fan_out(self, targets: Sequence[tuple[int, Target]], reply: Reply) -> FanOut:
        """Send one reply to many chats through the platform senders and their rate limits.

        A chat that refuses us (blocked the bot, left the channel) is marked inactive,
        as the daily-brief scheduler does.
        """
        tally = FanOut()
        semaphore = asyncio.Semaphore(max(1, self.config.fanout_concurrency))

        async def one(subscriber_id: int, target: Target) -> None:
            sender = self.senders.get(target.platform)
            if sender is None:
                tally.no_sender += 1
                return
            async with semaphore:
                result = await self._send(sender, target, reply)
            if result.status == "ok":
                tally.sent += 1
            elif result.status == "blocked":
                tally.blocked += 1
                tally.blocked_ids.append(subscriber_id)
            else:
                tally.failed += 1
                log.warning("broadcast to %s failed: %s", target.chat_id, result.detail)

        await asyncio.gather(*(one(sid, target) for sid, target in targets))
        if tally.blocked_ids:
            async with self.db.transaction() as session:
                await session.execute(
                    update(Subscriber)
                    .where(Subscriber.id.in_(tally.blocked_ids))
                    .values(active=False, next_run_at=None)
                )
        return tally

    async def _send(self, sender: Sender, target: Target, reply: Reply) -> SendResult:
        result = SendResult.failed("not sent")
        for _attempt in range(5):
            result = await sender.send(target, reply)
            if result.status != "retry_after":
                return result
            await self.sleep(min(result.retry_after_s, 60.0) + 0.05)
        return result

    # --- /feeds, /feed_remove, /feed_retry -----------------------------------------------------

    async def feeds(self) -> Reply:
        """Feed health, failing feeds first: failures in a row, the last error, subscribers."""
        subscribers = (
            select(func.count())
            .select_from(Subscription)
            .where(Subscription.feed_id == Feed.id)
            .scalar_subquery()
        )
        async with self.db.sessions() as session:
            rows = (
                await session.execute(
                    select(Feed, subscribers).order_by(Feed.failures.desc(), Feed.id)
                )
            ).all()
        if not rows:
            return text_reply("No feeds yet.")
        failing = sum(
            1 for feed, _ in rows if feed.failures >= self.config.feed_failures_before_notice
        )
        lines: list[str] = []
        for feed, count in rows[:FEEDS_SHOWN]:
            name = feed.title or feed.url
            line = f"{'⚠' if feed.failures else '✓'} {name}"
            if feed.title:
                line += f" — {feed.url}"
            if feed.failures:
                error = feed.last_error or "unknown error"
                line += f" · failed {feed.failures} times in a row: {error}"
            line += " · last read " + (_when(feed.last_ok_at) if feed.last_ok_at else "never")
            line += f" · {_plural(count, 'subscriber')}"
            lines.append(line)
        blocks: list[Heading | Bullets | Context] = [
            Heading(f"Feeds: {len(rows)}, {failing} failing"),
            Bullets(tuple(lines)),
        ]
        if len(rows) > FEEDS_SHOWN:
            blocks.append(Context(f"and {len(rows) - FEEDS_SHOWN} more, all reading fine"))
        blocks.append(
            Context("/feed_retry <url> reads a feed again now · /feed_remove <url> drops it")
        )
        return Reply(tuple(blocks))

    async def _find_feed(self, value: str) -> Feed | None:
        value = value.strip().strip("<>")
        async with self.db.sessions() as session:
            query = select(Feed).where(Feed.url == value)
            if value.isdigit():
                query = select(Feed).where(Feed.id == int(value))
            return (await session.execute(query)).scalar_one_or_none()

    async def _ask_remove(self, args: str) -> Reply:
        if not args:
            return text_reply("Which feed? /feed_remove <url> (see /feeds).")
        feed = await self._find_feed(args.split()[0])
        if feed is None:
            return text_reply(f"I have no feed {args.split()[0][:200]}. See /feeds.")
        async with self.db.sessions() as session:
            count = int(
                (
                    await session.execute(
                        select(func.count())
                        .select_from(Subscription)
                        .where(Subscription.feed_id == feed.id)
                    )
                ).scalar_one()
            )
        name = feed.title or feed.url
        token = self._remember(
            _Pending("remove", self.monotonic(), feed_id=feed.id, feed_name=name)
        )
        return Reply(
            (
                Heading(f"Remove the feed “{name}”?"),
                Text(
                    f"{_plural(count, 'subscriber')} will lose it; I'll tell them it was removed."
                ),
            ),
            (Button("Remove", f"a:rm:{token}"), Button("Cancel", f"a:no:{token}")),
        )

    async def remove_feed(self, feed_id: int, name: str) -> tuple[int, FanOut]:
        """Delete a feed and its subscriptions; reschedule and tell the chats that had it."""
        now = self.now()
        async with self.db.transaction() as session:
            rows = await session.execute(
                select(Subscriber)
                .join(Subscription, Subscription.subscriber_id == Subscriber.id)
                .where(Subscription.feed_id == feed_id)
            )
            affected = list(rows.scalars())
            await session.execute(delete(Subscription).where(Subscription.feed_id == feed_id))
            await session.execute(delete(StorySource).where(StorySource.feed_id == feed_id))
            await session.execute(delete(Feed).where(Feed.id == feed_id))
            for subscriber in affected:
                await reschedule(session, subscriber, now)
            told = [
                (s.id, Target(s.platform, s.chat_id, s.thread_id or ""))
                for s in affected
                if s.active
            ]
        notice = text_reply(
            f"The feed “{name}” was removed by the bot's operators, so it is no longer part "
            "of your daily brief. /subscriptions shows what is left."
        )
        return len(affected), await self.fan_out(told, notice)

    async def _retry(self, args: str) -> Reply:
        if not args:
            return text_reply("Which feed? /feed_retry <url> (see /feeds).")
        feed = await self._find_feed(args.split()[0])
        if feed is None:
            return text_reply(f"I have no feed {args.split()[0][:200]}. See /feeds.")
        async with self.db.transaction() as session:
            await session.execute(
                update(Feed)
                .where(Feed.id == feed.id)
                .values(failures=0, failure_reported=False, next_poll_at=self.now())
            )
        return text_reply(
            f"I'll read “{feed.title or feed.url}” again on the next pass "
            f"(within {self.config.scheduler_tick_s:g} s); its failure count is reset."
        )

    # --- buttons --------------------------------------------------------------------------

    def _remember(self, pending: _Pending) -> str:
        now = self.monotonic()
        for token in [t for t, p in self._pending.items() if now - p.created > CONFIRM_TTL_S]:
            del self._pending[token]
        token = secrets.token_hex(4)
        self._pending[token] = pending
        return token

    async def _button(self, payload: str) -> list[Reply]:
        action, _, token = payload.partition(":")
        pending = self._pending.pop(token, None)  # used once: a double tap does nothing twice
        if pending is None or self.monotonic() - pending.created > CONFIRM_TTL_S:
            return [text_reply("That confirmation has expired or was already used.")]
        if action == "no":
            return [text_reply("Cancelled — nothing was sent or changed.")]
        if action == "bc" and pending.action == "broadcast":
            tally = await self.broadcast(pending.text)
            return [text_reply(_tally_line(tally, "Broadcast"))]
        if action == "rm" and pending.action == "remove":
            had, tally = await self.remove_feed(pending.feed_id, pending.feed_name)
            return [
                text_reply(
                    f"Removed “{pending.feed_name}” from {_plural(had, 'subscription')}.",
                    _tally_line(tally, "Notice"),
                )
            ]
        return [text_reply("That button has expired.")]


def notifier(senders: Mapping[str, Sender]) -> Notify:
    """The core's ``notify``: a notice (your place in line) sent at once through the same
    platform senders, and rate limits, as daily briefs; silently skipped on other platforms."""

    async def notify(message: Incoming, reply: Reply) -> None:
        sender = senders.get(message.platform)
        if sender is not None:
            target = Target(message.platform, message.chat_id, message.thread_id or "")
            await sender.send(target, reply)

    return notify


def _active_subscriber() -> tuple[ColumnElement[bool], ...]:
    """Who counts as an active subscriber: reachable, not paused, at least one feed."""
    return (
        Subscriber.active.is_(True),
        Subscriber.paused.is_(False),
        exists().where(Subscription.subscriber_id == Subscriber.id),
    )


def _tally_line(tally: FanOut, what: str) -> str:
    line = f"{what} sent to {tally.sent} of {tally.total} chats"
    extra = []
    if tally.blocked:
        extra.append(f"{tally.blocked} blocked the bot, now marked inactive")
    if tally.failed:
        extra.append(f"{tally.failed} failed")
    if tally.no_sender:
        extra.append(f"{tally.no_sender} on a platform this process does not serve")
    return line + (" (" + "; ".join(extra) + ")." if extra else ".")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def duration(seconds: float) -> str:
    """'3 d 4 h', '2 h 5 min', '7 min', '12 s'."""
    seconds = int(max(0.0, seconds))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def _when(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d %H:%M UTC")
