"""The conversation core: routes messages, commands and buttons; keeps state per chat.

One async entry point, :meth:`ChatCore.handle`, takes an :class:`Incoming` and
returns neutral :class:`Reply` objects. Telegram, Slack and the console only
translate to and from it, so every product behaviour is tested here once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.core.limits import (
    Kind,
    Monotonic,
    QueueFullError,
    RateLimits,
    Refusal,
    WorkQueue,
    is_admin,
    ordinal,
)
from bot.core.messages import (
    Block,
    Bullets,
    Button,
    Context,
    Heading,
    Incoming,
    Quote,
    Reply,
    Text,
    text_reply,
)
from config.settings import Settings
from summarizer.analysis import Analysis
from summarizer.answers import Answer, ConversationState, answer_question, match_speaker
from summarizer.briefing import Brief, make_brief
from summarizer.models import ModelBusyError, ModelError, ModelService
from summarizer.reading import (
    ReadError,
    build_article,
    extract_html,
    looks_like_html,
    read_source,
)
from summarizer.records import QuoteRecord

if TYPE_CHECKING:
    import httpx

    from bot.observability import Metrics

log = logging.getLogger(__name__)

OnWork = Callable[[], Awaitable[None]]
#: Sends a reply to the message's chat right away, before the answer (e.g. "you're 3rd in line").
Notify = Callable[[Incoming, Reply], Awaitable[None]]


class CommandPlugin(Protocol):
    """A feature that owns some commands and button payloads (e.g. subscriptions)."""

    commands: frozenset[str]
    button_prefix: str  # payloads starting with this go to the plugin, e.g. "s"

    async def handle(self, message: Incoming, session: Session) -> list[Reply]: ...


HELP = (
    "Send me a news article — paste its text or a link — and I'll give you a short, "
    "faithful brief. Then ask me who said what, and when.",
    "Commands: /brief <link or text> · /ask <question> · /quotes [speaker] · "
    "/who · /when · /forget [everything] · /help",
    "Daily briefs: /subscribe <feed URL> [keywords] · /subscriptions · /topics <words> · "
    "/time 07:30 · /timezone Europe/Berlin · /stories 5 · /digest · /pause · /resume",
    "Examples: “what did the mayor say about the bridge?”, “quote Okafor”, "
    "“when did the authority confirm the money?”, “and what else did he say?”",
)
ADMIN_HELP = (
    "Operators: /stats · /broadcast <text> · /feeds · /feed_remove <url> · /feed_retry <url>"
)
#: Plugin commands that cost model work: rate-limited and queued like a new article.
EXPENSIVE_COMMANDS = frozenset({"digest"})

_URL = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)
_ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4}
_ARTICLE_REFERENCE = re.compile(
    r"\b(?:in|from|about)\s+the\s+(?P<which>first|second|third|fourth|fifth|last|previous|"
    r"latest|other)\s+(?:article|story|link|one)\b[,:]?\s*",
    re.IGNORECASE,
)


@dataclass
class ArticleEntry:
    """An article this chat has seen, with its brief and analysis."""

    key: str
    brief: Brief


@dataclass
class Session:
    """What the bot remembers about one chat (or Slack thread)."""

    articles: list[ArticleEntry] = field(default_factory=list)  # newest first
    conversation: ConversationState = field(default_factory=ConversationState)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_used: float = field(default_factory=time.monotonic)
    sent_order: list[str] = field(default_factory=list)  # article keys, oldest first

    @property
    def current(self) -> ArticleEntry | None:
        return self.articles[0] if self.articles else None

    def find(self, key: str) -> ArticleEntry | None:
        return next((entry for entry in self.articles if entry.key == key), None)


class SessionStore:
    """Sessions by chat key, the least recently used dropped beyond a bound."""

    def __init__(self, limit: int):
        self.limit = limit
        self._sessions: OrderedDict[tuple[str, str, str], Session] = OrderedDict()

    def get(self, key: tuple[str, str, str]) -> Session:
        session = self._sessions.get(key)
        if session is None:
            session = Session()
            self._sessions[key] = session
            while len(self._sessions) > self.limit:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(key)
        session.last_used = time.monotonic()
        return session

    def forget(self, key: tuple[str, str, str]) -> bool:
        return self._sessions.pop(key, None) is not None

    def __len__(self) -> int:
        return len(self._sessions)


class ChatCore:
    """Platform-neutral chat behaviour: briefs, answers, quotes, buttons, commands."""

    def __init__(
        self,
        settings: Settings,
        models: ModelService,
        http: httpx.AsyncClient,
        plugins: Sequence[CommandPlugin] = (),
        *,
        notify: Notify | None = None,
        clock: Monotonic = time.monotonic,
        metrics: Metrics | None = None,
    ):
        self.settings = settings
        self.metrics = metrics  # request counts and latencies by kind (serve mode)
        self.models = models
        self.http = http
        self.sessions = SessionStore(settings.chat_sessions_max)
        self.plugins = list(plugins)
        #: How a waiting user is told their place in line (the app wires platform senders).
        self.notify = notify
        self.limits = RateLimits(settings, clock)
        self.work = WorkQueue(settings.work_max_active, settings.work_max_waiting)
        # The latest article per chat, so a question outside the article's thread
        # (a Slack DM, say) is about the article the user just sent.
        self._latest: OrderedDict[tuple[str, str], ArticleEntry] = OrderedDict()

    def plugin_commands(self) -> frozenset[str]:
        """Every command a plugin owns (adapters that multiplex one slash command need them)."""
        return frozenset().union(*(plugin.commands for plugin in self.plugins))

    def remember(self, chat_key: tuple[str, str, str], briefs: Sequence[Brief]) -> None:
        """Keep briefs made elsewhere (a delivered daily brief) so questions can follow."""
        session = self.sessions.get(chat_key)
        for brief in reversed(briefs):
            self._keep(session, brief, chat_key[:2])

    def _keep(
        self, session: Session, brief: Brief, chat: tuple[str, str] | None = None
    ) -> ArticleEntry:
        entry = ArticleEntry(key=brief.article.content_hash[:10], brief=brief)
        if chat is not None:
            self._latest[chat] = entry
            self._latest.move_to_end(chat)
            while len(self._latest) > self.settings.chat_sessions_max:
                self._latest.popitem(last=False)
        session.articles = [e for e in session.articles if e.key != entry.key]
        session.articles.insert(0, entry)
        del session.articles[self.settings.chat_articles_kept :]
        kept = {e.key for e in session.articles}
        session.sent_order = [k for k in session.sent_order if k != entry.key and k in kept]
        session.sent_order.append(entry.key)
        return entry

    async def handle(self, message: Incoming, on_work: OnWork | None = None) -> list[Reply]:
        """Answer one user action. Never raises for anything a user can send."""
        if self.metrics is None:
            return await self._handle(message, on_work)
        with self.metrics.request(message):
            return await self._handle(message, on_work)

    async def _handle(self, message: Incoming, on_work: OnWork | None) -> list[Reply]:
        session = self.sessions.get(message.chat_key)
        on_work = _once(on_work)
        async with session.lock:  # one chat's messages in order; other chats run on
            try:
                return await self._route(message, session, on_work)
            except QueueFullError:
                return [
                    text_reply(
                        "I'm too busy to take on more right now — please try again in a minute."
                    )
                ]
            except ReadError as error:
                return [text_reply(f"I couldn't read that article: {error}.")]
            except ModelBusyError:
                return [
                    text_reply(
                        "I'm busy with other requests right now — please try again in a minute."
                    )
                ]
            except ModelError as error:
                log.error("model failure: %s", error)
                return [
                    text_reply(
                        "My summary model is not available right now, sorry. "
                        "Please try again later."
                    )
                ]

    # --- routing -------------------------------------------------------------------------

    async def _route(
        self, message: Incoming, session: Session, on_work: OnWork | None
    ) -> list[Reply]:
        command = (message.command or "").lower()
        for plugin in self.plugins:
            if command in plugin.commands or (
                message.button and message.button.startswith(plugin.button_prefix + ":")
            ):
                if command in EXPENSIVE_COMMANDS:
                    return await self._limited(
                        message, "work", on_work, functools.partial(plugin.handle, message, session)
                    )
                return await plugin.handle(message, session)
        if message.button:
            return await self._button(message.button, session, on_work)
        if command in ("start", "help"):
            if self.is_admin(message):
                return [text_reply(*HELP, ADMIN_HELP)]
            return [text_reply(*HELP)]
        if command == "forget":

            def forget_memory(key: tuple[str, str, str]) -> None:
                self.sessions.forget(key)
                self._latest.pop(key[:2], None)

            for plugin in self.plugins:  # one that stores data asks first, then deletes it all
                confirm_forget = getattr(plugin, "confirm_forget", None)
                if confirm_forget is not None:
                    replies: list[Reply] = await confirm_forget(message, forget_memory)
                    return replies
            forget_memory(message.chat_key)
            return [text_reply("Done — I've forgotten the articles and questions in this chat.")]
        if command == "brief":
            if not message.args.strip():
                return [text_reply("Send /brief with a link or the article's text.")]
            return await self._limited(
                message,
                "work",
                on_work,
                lambda: self._brief(message.args, message, session, on_work),
            )
        if command == "ask":
            return await self._question(message.args, message, session, on_work)
        if command == "quotes":
            return self._quotes(session, speaker=message.args.strip() or None)
        if command == "who":
            return self._who(session)
        if command in ("when", "timeline"):
            return self._timeline(session)
        if command:
            return unknown_command(command)
        text = message.text.strip()
        if not text:
            return [text_reply(HELP[0])]
        if self._is_article(text):
            return await self._limited(
                message, "work", on_work, lambda: self._brief(text, message, session, on_work)
            )
        return await self._question(text, message, session, on_work)

    def is_admin(self, message: Incoming) -> bool:
        """An operator listed in NEWSBRIEF_ADMINS (``telegram:123456``, ``slack:U012ABC``)."""
        return is_admin(self.settings.admins, message)

    # --- limits ----------------------------------------------------------------------------

    async def _limited(
        self,
        message: Incoming,
        kind: Kind,
        on_work: OnWork | None,
        work: Callable[[], Awaitable[list[Reply]]],
    ) -> list[Reply]:
        """Expensive work: the user's and the chat's buckets, a place in the queue, a time limit.

        The local console is never rate-limited (its one user is the operator), admins
        neither; both still queue, since the queue protects the machine.
        """
        limited = message.platform != "console" and not self.is_admin(message)
        if limited:
            refusal = self.limits.acquire(message, kind)
            if refusal is not None:
                return [rate_limited(refusal, kind, message.command)]
        if on_work:
            await on_work()

        async def tell_place(place: int) -> None:
            await self._notify(message, waiting_notice(place))

        try:
            async with self.work.slot(tell_place):
                async with asyncio.timeout(self.settings.request_timeout_s):
                    return await work()
        except QueueFullError:
            if limited:
                self.limits.refund(message, kind)  # nothing was done: the try is not counted
            raise
        except TimeoutError:
            log.warning(
                "request in %s:%s stopped after %g s",
                message.platform,
                message.chat_id,
                self.settings.request_timeout_s,
            )
            return [
                text_reply(
                    f"That took me too long (over {self.settings.request_timeout_s:g} s), "
                    "so I stopped. Please try again later — a shorter article or a "
                    "different link may work better."
                )
            ]

    async def _question(
        self, question: str, message: Incoming, session: Session, on_work: OnWork | None
    ) -> list[Reply]:
        """Questions are cheap (one embedding call), so a generous bucket and no queue."""
        if message.platform != "console" and not self.is_admin(message):
            refusal = self.limits.acquire(message, "question")
            if refusal is not None:
                return [rate_limited(refusal, "question")]
        return await self._ask(question, message, session, on_work)

    async def _notify(self, message: Incoming, reply: Reply) -> None:
        if self.notify is None:
            return
        try:
            await self.notify(message, reply)
        except Exception as error:  # a notice is best effort; the answer still comes
            log.info("could not send a notice to %s: %s", message.chat_id, error)

    def _is_article(self, text: str) -> bool:
        urls = _URL.findall(text)
        if urls and len(text) - sum(len(u) for u in urls) < 80:
            return True
        return len(text) >= self.settings.chat_article_min_chars

    # --- briefs --------------------------------------------------------------------------

    async def _brief(
        self, text: str, message: Incoming, session: Session, on_work: OnWork | None
    ) -> list[Reply]:
        if on_work:
            await on_work()
        url_match = _URL.search(text)
        source_text = text.strip()
        if url_match and len(source_text) - len(url_match.group(0)) < 80:
            article = await read_source(
                url_match.group(0),
                max_chars=self.settings.max_article_chars,
                max_fetch_bytes=self.settings.max_fetch_bytes,
                http_client=self.http,
            )
        elif looks_like_html(source_text):
            page = await asyncio.to_thread(extract_html, source_text, None)
            article = build_article(
                page.text,
                title=page.title,
                author=page.author,
                published=page.published,
                max_chars=self.settings.max_article_chars,
            )
        else:
            article = build_article(source_text, max_chars=self.settings.max_article_chars)
        brief = await make_brief(
            article,
            self.models,
            method=self.settings.summary_method,
            sentences=self.settings.summary_sentences,
        )
        entry = self._keep(session, brief, message.chat_key[:2])
        session.conversation.new_article(brief.analysis)
        return [render_brief(entry)]

    # --- questions -----------------------------------------------------------------------

    async def _ask(
        self, question: str, message: Incoming, session: Session, on_work: OnWork | None
    ) -> list[Reply]:
        question = question.strip()
        if not question:
            return [
                text_reply(
                    "Ask me something about the article, e.g. “who said what about the vote?”"
                )
            ]
        if session.current is None and message.chat_key[:2] in self._latest:
            self._keep(session, self._latest[message.chat_key[:2]].brief)
        named = _ARTICLE_REFERENCE.search(question) is not None
        entry, question = self._pick_article(question, session)
        if entry is None:
            return [
                text_reply("Send me an article first — paste its text or a link — then ask away.")
            ]
        if on_work:
            await on_work()
        if session.conversation.analysis is not entry.brief.analysis:
            session.conversation.new_article(entry.brief.analysis)
        answer = await answer_question(question, session.conversation, self.models)
        if answer.found or named:
            return [render_answer(answer)]
        # Not in this article: the chat may hold others (a daily brief's stories).
        for other in session.articles:
            if other is entry:
                continue
            state = ConversationState()
            state.new_article(other.brief.analysis)
            elsewhere = await answer_question(question, state, self.models)
            if elsewhere.found:
                session.conversation = state
                session.articles.remove(other)
                session.articles.insert(0, other)
                return [render_answer(elsewhere, source=other.brief.article.title)]
        return [render_answer(answer)]

    def _pick_article(self, question: str, session: Session) -> tuple[ArticleEntry | None, str]:
        """The article a question names ("in the first article…"), else the current one."""
        match = _ARTICLE_REFERENCE.search(question)
        if not match:
            return session.current, question
        which = match.group("which").lower()
        rest = (question[: match.start()] + question[match.end() :]).strip() or question
        known = [session.find(key) for key in session.sent_order]
        ordered = [entry for entry in known if entry is not None]  # oldest first
        if not ordered:
            return None, rest
        if which in _ORDINALS:
            index = _ORDINALS[which]
            return (ordered[index] if index < len(ordered) else None), rest
        if which in ("previous", "other"):
            return (ordered[-2] if len(ordered) > 1 else ordered[-1]), rest
        return ordered[-1], rest

    # --- quotes, speakers, timeline -------------------------------------------------------

    async def _button(self, payload: str, session: Session, on_work: OnWork | None) -> list[Reply]:
        action, _, key = payload.partition(":")
        entry = session.find(key) if key else session.current
        if entry is None:
            return [text_reply("That article is no longer in this chat — send it again, please.")]
        if action == "q":
            return self._quotes(session, entry=entry)
        if action == "w":
            return self._who(session, entry=entry)
        if action == "t":
            return self._timeline(session, entry=entry)
        return [text_reply("That button has expired.")]

    def _quotes(
        self, session: Session, *, speaker: str | None = None, entry: ArticleEntry | None = None
    ) -> list[Reply]:
        entry = entry or session.current
        if entry is None:
            return [text_reply("Send me an article first, then ask for its quotes.")]
        analysis = entry.brief.analysis
        records = list(analysis.quotes)
        if speaker:
            wanted = match_speaker(speaker, analysis)
            records = [r for r in records if wanted and r.speaker == wanted]
            if not records:
                names = ", ".join(_speaker_names(analysis)) or "nobody"
                return [
                    text_reply(
                        f"I couldn't find any quotes from {speaker} in this article. "
                        f"Quoted: {names}."
                    )
                ]
            session.conversation.last_speaker = records[0].speaker
        if not records:
            return [text_reply("This article quotes nobody directly or indirectly.")]
        shown = records[:12]
        blocks: list[Block] = [Heading(f"Quotes from {speaker}" if speaker else "Quotes")]
        blocks.extend(quote_block(record) for record in shown)
        if len(records) > len(shown):
            blocks.append(
                Context(f"{len(records) - len(shown)} more — ask about a speaker to see theirs.")
            )
        return [Reply(tuple(blocks))]

    def _who(self, session: Session, entry: ArticleEntry | None = None) -> list[Reply]:
        entry = entry or session.current
        if entry is None:
            return [text_reply("Send me an article first.")]
        lines = entry.brief.who_said_what
        if not lines:
            return [text_reply("Nobody is quoted in this article.")]
        blocks: list[Block] = [Heading("Who said what")]
        blocks.extend(quote_block(line.quote) for line in lines)
        return [Reply(tuple(blocks))]

    def _timeline(self, session: Session, entry: ArticleEntry | None = None) -> list[Reply]:
        entry = entry or session.current
        if entry is None:
            return [text_reply("Send me an article first.")]
        analysis = entry.brief.analysis
        article = analysis.article
        dated = [ref for ref in analysis.time_refs if ref.date is not None and ref.span is not None]
        if not dated:
            if article.published is None:
                return [
                    text_reply(
                        "The article has no publication date, "
                        "so I can't place its events on a calendar."
                    )
                ]
            return [text_reply("The article doesn't tie its events to particular days.")]
        items: list[str] = []
        seen: set[int] = set()
        for ref in sorted(dated, key=lambda r: (r.date, r.span)):
            assert ref.span is not None and ref.date is not None
            sentence = article.sentence_at(ref.span[0])
            if sentence is None or sentence.index in seen:
                continue
            seen.add(sentence.index)
            items.append(f"{ref.date.strftime('%a %d %b %Y')} ({ref.text}): {sentence.text}")
        return [Reply((Heading("Timeline"), Bullets(tuple(items[:15]))))]


# --- rendering to neutral replies ------------------------------------------------------------


def unknown_command(command: str) -> list[Reply]:
    """The reply to a command the bot does not have (or will not admit to having)."""
    return [text_reply(f"I don't know the command /{command}.", HELP[1])]


def rate_limited(refusal: Refusal, kind: Kind, command: str | None = None) -> Reply:
    """A friendly refusal that says when trying again will work."""
    wait = refusal.wait_text()
    if kind == "question":
        return text_reply(f"You're asking faster than I can answer — try again in {wait}.")
    who = "You're" if refusal.scope == "user" else "This chat is"
    if command == "digest":
        return text_reply(
            f"{who} asking for briefs faster than I can put them together — try again in {wait}."
        )
    return text_reply(f"{who} sending articles faster than I can read them — try again in {wait}.")


def waiting_notice(place: int) -> Reply:
    where = "next in line" if place == 1 else f"{ordinal(place)} in line"
    return text_reply(f"I'm busy — you're {where}. I'll answer as soon as I can.")


def _once(on_work: OnWork | None) -> OnWork | None:
    """The adapter's "working…" signal, sent at most once per message."""
    if on_work is None:
        return None
    called = False

    async def once() -> None:
        nonlocal called
        if not called:
            called = True
            await on_work()

    return once


def render_brief(entry: ArticleEntry) -> Reply:
    brief = entry.brief
    article = brief.article
    blocks: list[Block] = [Heading(article.title or "Brief")]
    meta = []
    if article.published:
        meta.append(f"Published {article.published.isoformat()}")
    if article.url:
        meta.append(article.url)
    if meta:
        blocks.append(Context(" · ".join(meta)))
    blocks.append(Bullets(tuple(bullet.text for bullet in brief.summary.bullets)))
    if brief.who_said_what:
        blocks.append(Text("Who said what", bold=True))
        blocks.extend(quote_block(line.quote) for line in brief.who_said_what[:3])
    buttons = (
        Button("Quotes", f"q:{entry.key}"),
        Button("Who said what", f"w:{entry.key}"),
        Button("Timeline", f"t:{entry.key}"),
    )
    return Reply(tuple(blocks), buttons)


def quote_block(record: QuoteRecord) -> Quote:
    when = None
    if record.when is not None:
        when = record.when.text
        if record.when.date:
            when = f"{record.when.text} ({record.when.date.isoformat()})"
    return Quote(
        text=record.content.strip().rstrip(","),
        speaker=record.speaker,
        when=when,
        where=record.where,
        direct=record.kind == "direct",
    )


def render_answer(answer: Answer, source: str | None = None) -> Reply:
    """The answer, its verbatim quote, and which article it came from when not the current one."""
    blocks: list[Block] = [Text(answer.answer)]
    if answer.found and answer.quote and answer.quote not in answer.answer:
        when = None
        if answer.when is not None:
            when = answer.when.text + (
                f" ({answer.when.date.isoformat()})" if answer.when.date else ""
            )
        blocks.append(Quote(answer.quote, answer.speaker, when, answer.where))
    if source:
        blocks.append(Context(f"From the story “{source}”"))
    return Reply(tuple(blocks))


def _speaker_names(analysis: Analysis) -> list[str]:
    return sorted({q.speaker for q in analysis.quotes if q.speaker})
