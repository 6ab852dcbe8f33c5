"""Chat commands for daily briefs: a :class:`bot.core.chat.CommandPlugin`.

Console, Telegram and Slack get them through the chat core. Every problem a user
can cause (a bad URL, an unknown time zone, a malformed OPML file) becomes a
friendly reply; only the database is trusted for state.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element
from zoneinfo import available_timezones

import defusedxml.ElementTree as SafeET
import httpx
from defusedxml import DefusedXmlException

from bot.core.messages import Button, Context, Heading, Incoming, Reply, Text, text_reply
from bot.feeds import FeedError, fetch_feed
from bot.storage.config import Clock, DeliverySettings
from bot.storage.db import Database
from bot.storage.models import Subscriber
from bot.storage.repository import (
    delete_subscriber,
    find_subscriber,
    get_or_create_feed,
    get_or_create_subscriber,
    local_date,
    reschedule,
    subscribe,
    subscriptions_of,
    unsubscribe,
    valid_feed_url,
)
from bot.stories import compose_digest, load_pool, load_profiles, rank
from summarizer.answers import ConversationState
from summarizer.briefing import Brief

if TYPE_CHECKING:
    from bot.core.chat import Session
    from bot.stories import StoryService

log = logging.getLogger(__name__)

OnBriefs = Callable[[tuple[str, str, str], Sequence[Brief]], None]
#: The chat core's own forgetting of a chat's articles and conversation (held in memory).
ForgetMemory = Callable[[tuple[str, str, str]], None]

COMMON_ZONES = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
)
MAX_IMPORT = 100
_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?$", re.IGNORECASE)
USAGE = {
    "subscribe": "/subscribe <feed URL> [keywords…], e.g. /subscribe https://example.com/rss.xml",
    "unsubscribe": "/unsubscribe <feed URL|all>",
    "topics": "/topics <keywords…> (or /topics clear)",
    "time": "/time 07:30",
    "timezone": "/timezone Europe/Berlin",
    "stories": "/stories 5",
    "import": "/import <the OPML text of your feed list>",
}
FORGET_USAGE = (
    "/forget deletes the articles you sent in this chat and our conversation; "
    "/forget everything also deletes your daily-brief subscriptions and settings."
)


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def find_zone(value: str) -> str | None:
    """An IANA zone name, case-insensitively ("europe/berlin" → "Europe/Berlin")."""
    value = value.strip().replace(" ", "_")
    return _zones().get(value.lower())


def parse_time(value: str) -> str | None:
    """ "07:30", "7:30", "7", "7pm", "19.30" → "HH:MM"; None when not a time of day."""
    match = _TIME.match(value.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").lower()
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def parse_opml(text: str) -> list[str]:
    """Feed URLs (``xmlUrl``) of an OPML document, parsed without entity expansion."""
    try:
        root: Element = SafeET.fromstring(text.strip().encode("utf-8"))
    except (SafeET.ParseError, DefusedXmlException, ValueError) as error:
        raise ValueError(f"that is not valid OPML ({type(error).__name__})") from None
    urls = [
        (node.get("xmlUrl") or node.get("xmlurl") or "").strip() for node in root.iter("outline")
    ]
    return list(dict.fromkeys(u for u in urls if valid_feed_url(u)))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


class SubscriptionCommands:
    """/subscribe, /unsubscribe, /subscriptions, /topics, /time, /timezone, /pause, /resume,
    /digest, /stories and /import; buttons with the "s:" prefix. The chat core's /forget
    asks :meth:`confirm_forget`, whose buttons ("s:fg:…") come back here."""

    commands = frozenset(
        {
            "subscribe",
            "unsubscribe",
            "subscriptions",
            "topics",
            "time",
            "timezone",
            "pause",
            "resume",
            "digest",
            "stories",
            "import",
        }
    )
    button_prefix = "s"

    def __init__(
        self,
        db: Database,
        config: DeliverySettings,
        now: Clock,
        *,
        http: httpx.AsyncClient | None = None,
        stories: StoryService | None = None,
        on_briefs: OnBriefs | None = None,
        check_feeds: bool = True,
    ) -> None:
        self.db = db
        self.config = config
        self.now = now
        self.http = http
        self.stories = stories
        #: ChatCore.remember, so questions can follow a /digest (set after the core exists).
        self.on_briefs = on_briefs
        self.check_feeds = check_feeds and http is not None
        #: Given by the chat core with each /forget; called when the user confirms.
        self.forget_memory: ForgetMemory | None = None

    async def handle(self, message: Incoming, session: Session) -> list[Reply]:
        if message.button:
            payload = message.button.partition(":")[2]
            if payload.startswith("fg:"):
                return await self._forget(message, session, payload[3:])
            return await self._button(message, payload)
        command = (message.command or "").lower()
        args = message.args.strip()
        handler = getattr(self, f"_cmd_{command}")
        replies: list[Reply] = await handler(message, args)
        return replies

    # --- helpers ------------------------------------------------------------------------

    async def _subscriber(self, message: Incoming) -> Subscriber | None:
        async with self.db.sessions() as session:
            return await find_subscriber(session, message.platform, message.chat_id)

    def _schedule_line(self, subscriber: Subscriber) -> str:
        if subscriber.paused:
            return "Your daily brief is paused — /resume to restart it."
        return (
            f"Your daily brief comes at {subscriber.local_time} ({subscriber.timezone}) "
            f"with up to {subscriber.stories} stories."
        )

    def _zone_buttons(self) -> tuple[Button, ...]:
        return tuple(
            Button(zone.split("/")[-1].replace("_", " "), f"s:tz:{zone}") for zone in COMMON_ZONES
        )

    # --- commands -------------------------------------------------------------------------

    async def _cmd_subscribe(self, message: Incoming, args: str) -> list[Reply]:
        try:
            words = shlex.split(args)
        except ValueError:
            words = args.split()
        if not words:
            return [text_reply("Which feed? " + USAGE["subscribe"])]
        url, keywords = words[0].strip("<>"), [w.lower() for w in words[1:]][:20]
        if not valid_feed_url(url):
            return [
                text_reply(f"“{url[:80]}” is not a feed link (http or https).", USAGE["subscribe"])
            ]
        title: str | None = None
        if self.check_feeds and self.http is not None:
            try:
                result = await fetch_feed(
                    self.http,
                    url,
                    max_bytes=self.config.feed_max_bytes,
                    deadline_s=self.config.feed_timeout_s,
                )
            except FeedError as error:
                return [text_reply(f"I couldn't read a feed at {url}: {error}.")]
            title = result.feed.title if result.feed else None
        return [await self._add(message, [url], keywords, title)]

    async def _add(
        self, message: Incoming, urls: Sequence[str], keywords: Sequence[str], title: str | None
    ) -> Reply:
        now = self.now()
        added = 0
        async with self.db.transaction() as session:
            subscriber = await get_or_create_subscriber(
                session,
                message.platform,
                message.chat_id,
                now=now,
                local_time=self.config.default_time,
                timezone=self.config.default_timezone,
                stories=self.config.digest_stories,
            )
            for url in urls:
                feed = await get_or_create_feed(session, url, now=now)
                if title and not feed.title:
                    feed.title = title[:500]
                added += await subscribe(session, subscriber, feed, keywords, now=now)
            await reschedule(session, subscriber, now)
            line = self._schedule_line(subscriber)
            first = subscriber.created_at >= now - timedelta(seconds=5)
        if len(urls) == 1:
            name = title or urls[0]
            what = f"Subscribed to {name}" if added else f"Updated your subscription to {name}"
            if keywords:
                what += " (only stories about " + ", ".join(keywords) + ")"
            lines = [what + ".", line]
        else:
            lines = [f"Imported {added} new feeds ({len(urls) - added} you already had).", line]
        buttons: tuple[Button, ...] = ()
        if first:
            lines.append(
                "Set your time zone with /timezone (e.g. /timezone Europe/Berlin) or tap one:"
            )
            buttons = self._zone_buttons()
        return Reply(tuple(Text(x) for x in lines), buttons)

    async def _cmd_import(self, message: Incoming, args: str) -> list[Reply]:
        if not args:
            return [text_reply("Paste your OPML after the command. " + USAGE["import"])]
        try:
            urls = parse_opml(args)
        except ValueError as error:
            return [text_reply(f"I couldn't read that: {error}.")]
        if not urls:
            return [text_reply("I found no feeds (outline elements with an xmlUrl) in that OPML.")]
        skipped = max(0, len(urls) - MAX_IMPORT)
        reply = await self._add(message, urls[:MAX_IMPORT], [], None)
        if skipped:
            reply = Reply(
                (*reply.blocks, Text(f"I skipped {skipped} feeds over the {MAX_IMPORT} limit.")),
                reply.buttons,
            )
        return [reply]

    async def _cmd_unsubscribe(self, message: Incoming, args: str) -> list[Reply]:
        if not args:
            return [text_reply("Which feed? " + USAGE["unsubscribe"] + " — or see /subscriptions.")]
        async with self.db.transaction() as session:
            subscriber = await find_subscriber(session, message.platform, message.chat_id)
            if subscriber is None:
                return [text_reply("You have no subscriptions.")]
            if args.lower() == "all":
                removed = await unsubscribe(session, subscriber.id, None)
                await reschedule(session, subscriber, self.now())
                return [text_reply(f"Unsubscribed from all {removed} feeds. No more daily briefs.")]
            wanted = args.split()[0].strip("<>")
            for subscription, feed in await subscriptions_of(session, subscriber.id):
                if (
                    wanted in (feed.url, str(subscription.id))
                    or (feed.title or "").lower() == args.lower()
                ):
                    await unsubscribe(session, subscriber.id, subscription.id)
                    await reschedule(session, subscriber, self.now())
                    return [text_reply(f"Unsubscribed from {feed.title or feed.url}.")]
        return [text_reply(f"You're not subscribed to {wanted[:100]}. See /subscriptions.")]

    async def _cmd_subscriptions(self, message: Incoming, args: str) -> list[Reply]:
        async with self.db.sessions() as session:
            subscriber = await find_subscriber(session, message.platform, message.chat_id)
            rows = await subscriptions_of(session, subscriber.id) if subscriber else []
        if subscriber is None or not rows:
            return [text_reply("You have no subscriptions yet. " + USAGE["subscribe"])]
        blocks: list[Heading | Text | Context] = [Heading("Your subscriptions")]
        buttons: list[Button] = []
        for number, (subscription, feed) in enumerate(rows, 1):
            name = feed.title or feed.url
            line = f"{number}. {name}" + (f" — {feed.url}" if feed.title else "")
            if subscription.keywords:
                line += " (about " + ", ".join(subscription.keywords) + ")"
            if feed.failures >= self.config.feed_failures_before_notice:
                line += " ⚠ failing"
            blocks.append(Text(line))
            buttons.append(Button(f"Remove {number}", f"s:rm:{subscription.id}"))
        if subscriber.topics:
            blocks.append(Text("Topics: " + ", ".join(subscriber.topics)))
        blocks.append(Context(self._schedule_line(subscriber)))
        return [Reply(tuple(blocks), tuple(buttons[:20]))]

    async def _cmd_topics(self, message: Incoming, args: str) -> list[Reply]:
        topics = [w.lower() for w in re.split(r"[,\s]+", args) if w][:20]
        async with self.db.transaction() as session:
            subscriber = await find_subscriber(session, message.platform, message.chat_id)
            if subscriber is None:
                return [text_reply("Subscribe to a feed first. " + USAGE["subscribe"])]
            if not topics:
                current = ", ".join(subscriber.topics) or "none (every story)"
                return [text_reply(f"Your topics: {current}.", USAGE["topics"])]
            subscriber.topics = [] if topics == ["clear"] else topics
        if topics == ["clear"]:
            return [text_reply("Topics cleared: your brief covers every story of your feeds.")]
        return [text_reply("Your brief now only has stories about: " + ", ".join(topics) + ".")]

    async def _cmd_time(self, message: Incoming, args: str) -> list[Reply]:
        value = parse_time(args) if args else None
        if value is None:
            return [
                text_reply(
                    "When should your brief come? " + USAGE["time"] + " (24-hour, or 7:30am)."
                )
            ]
        return [await self._update(message, local_time=value)]

    async def _cmd_timezone(self, message: Incoming, args: str) -> list[Reply]:
        zone = find_zone(args) if args else None
        if zone is None:
            intro = (
                f"I don't know the time zone “{args[:60]}”."
                if args
                else "Which time zone are you in?"
            )
            return [
                Reply(
                    (
                        Text(intro),
                        Text(
                            "Use an IANA name like Europe/Berlin or America/New_York, or tap one:"
                        ),
                    ),
                    self._zone_buttons(),
                )
            ]
        return [await self._update(message, timezone=zone)]

    async def _cmd_stories(self, message: Incoming, args: str) -> list[Reply]:
        limit = self.config.digest_max_stories
        if not args.isdigit() or not 1 <= int(args) <= limit:
            return [text_reply(f"How many stories (1–{limit})? " + USAGE["stories"])]
        return [await self._update(message, stories=int(args))]

    async def _cmd_pause(self, message: Incoming, args: str) -> list[Reply]:
        return [await self._update(message, paused=True)]

    async def _cmd_resume(self, message: Incoming, args: str) -> list[Reply]:
        return [await self._update(message, paused=False, active=True)]

    async def _update(self, message: Incoming, **values: object) -> Reply:
        now = self.now()
        async with self.db.transaction() as session:
            subscriber = await find_subscriber(session, message.platform, message.chat_id)
            if subscriber is None:
                return text_reply("Subscribe to a feed first. " + USAGE["subscribe"])
            for key, value in values.items():
                setattr(subscriber, key, value)
            await reschedule(session, subscriber, now)
            line = self._schedule_line(subscriber)
        return text_reply("Done. " + line)

    async def _cmd_digest(self, message: Incoming, args: str) -> list[Reply]:
        """The brief now, from stories already read (it does not count as the daily one)."""
        now = self.now()
        async with self.db.sessions() as session:
            subscriber = await find_subscriber(session, message.platform, message.chat_id)
        if subscriber is None:
            return [text_reply("Subscribe to a feed first. " + USAGE["subscribe"])]
        since = now - timedelta(hours=self.config.digest_window_h)
        pool = await load_pool(self.db, since)
        profiles = await load_profiles(
            self.db, [(subscriber.id, subscriber.stories, subscriber.topics or [], since)]
        )
        ranked = rank(pool, profiles[subscriber.id], now)
        reply = compose_digest(
            ranked, local_date(subscriber.timezone, now), title="Your brief right now"
        )
        if ranked and self.stories is not None and self.on_briefs is not None:
            briefs = await self.stories.briefs_for([r.story.id for r in ranked])
            self.on_briefs(message.chat_key, briefs)
        return [reply]

    # --- /forget ------------------------------------------------------------------------

    async def confirm_forget(self, message: Incoming, forget_memory: ForgetMemory) -> list[Reply]:
        """/forget and /forget everything: say what will go, and wait for a button press.

        Called by the chat core, which owns the conversation memory; stored data
        (subscriptions, settings, delivery records) is this plugin's.
        """
        self.forget_memory = forget_memory
        scope = message.args.strip().lower()
        if scope not in ("", "everything", "all"):
            return [text_reply(FORGET_USAGE)]
        cancel = Button("Cancel", "s:fg:x")
        if scope == "":
            lines = [
                "Forget this conversation? I'll delete the articles you sent here "
                "and our questions and answers about them."
            ]
            subscriber = await self._subscriber(message)
            if subscriber is not None:
                lines.append(
                    "Your daily brief and its feeds stay — "
                    "send “/forget everything” to delete those too."
                )
            return [Reply(tuple(Text(x) for x in lines), (Button("Forget", "s:fg:c"), cancel))]
        async with self.db.sessions() as session:
            subscriber = await find_subscriber(session, message.platform, message.chat_id)
            feeds = len(await subscriptions_of(session, subscriber.id)) if subscriber else 0
        stored = (
            f" and everything stored for this chat: your {_plural(feeds, 'feed subscription')}, "
            "topics, brief time and time zone, and the record of briefs sent. "
            "No more daily briefs will come"
            if subscriber is not None
            else ". Nothing else is stored for this chat"
        )
        return [
            Reply(
                (
                    Text(
                        "Forget everything? I'll delete the articles you sent here and "
                        f"our conversation about them{stored}."
                    ),
                ),
                (Button("Forget everything", "s:fg:a"), cancel),
            )
        ]

    async def _forget(self, message: Incoming, session: Session, scope: str) -> list[Reply]:
        if scope == "x":
            return [text_reply("OK — I haven't deleted anything.")]
        if scope not in ("c", "a"):
            return [text_reply("That button has expired.")]
        articles = len(session.articles)
        # Cleared here too: a button can outlive a restart, before any /forget gave the hook.
        session.articles.clear()
        session.sent_order.clear()
        session.conversation = ConversationState()
        if self.forget_memory is not None:
            self.forget_memory(message.chat_key)
        done = [
            f"the {_plural(articles, 'article')} you sent here and our conversation"
            if articles
            else "our conversation in this chat"
        ]
        if scope == "a":
            async with self.db.transaction() as db_session:
                gone = await delete_subscriber(db_session, message.platform, message.chat_id)
            if gone.subscriber:
                done.append(
                    f"your {_plural(gone.subscriptions, 'feed subscription')}, topics and "
                    "brief settings"
                )
                done.append(f"{_plural(gone.deliveries, 'record')} of briefs sent")
        reply = "Done — I've deleted " + _join(done) + "."
        if scope == "a" and len(done) > 1:
            reply += " You won't get daily briefs any more; /subscribe starts afresh."
        return [text_reply(reply)]

    # --- buttons --------------------------------------------------------------------------

    async def _button(self, message: Incoming, payload: str) -> list[Reply]:
        action, _, value = payload.partition(":")
        if action == "tz" and find_zone(value):
            return [await self._update(message, timezone=find_zone(value))]
        if action == "rm" and value.isdigit():
            async with self.db.transaction() as session:
                subscriber = await find_subscriber(session, message.platform, message.chat_id)
                if subscriber is None:
                    return [text_reply("You have no subscriptions.")]
                names = {
                    s.id: f.title or f.url
                    for s, f in await subscriptions_of(session, subscriber.id)
                }
                if int(value) not in names:
                    return [text_reply("That subscription is already gone.")]
                await unsubscribe(session, subscriber.id, int(value))
                await reschedule(session, subscriber, self.now())
            return [text_reply(f"Unsubscribed from {names[int(value)]}.")]
        if action == "l":
            return await self._cmd_subscriptions(message, "")
        return [text_reply("That button has expired.")]
