"""The Slack adapter: Slack payloads in, Block Kit messages out, on the shared chat core.

All product behaviour lives in :class:`bot.core.ChatCore`; this module only translates.

Conversations (the core's ``chat_key``):

* a direct message or an ``@mention`` belongs to its thread: ``thread_ts`` when the message
  is a thread reply, else the message's own ``ts`` — so the brief of a pasted article goes
  into the thread of that message and questions asked in that thread are about it;
* ``/brief ...`` slash commands carry no thread, so they share one conversation per channel
  and are answered through the command's ``response_url`` (``in_channel``), which works even
  in channels the bot has not joined;
* a button press belongs to the thread of the message that carries the button;
* Slack does not allow slash commands in threads, so ``forget`` (or ``forget everything``)
  sent as a message or ``@mention`` in a thread forgets that thread's conversation.

Slack has no "typing" indicator for bots: while the core works on a brief or an answer we
put :hourglass_flowing_sand: on the user's message and take it off once the reply is posted.

Events are acknowledged at once (``process_before_response=False``) and the work runs in
tasks we own, so shutdown can wait for them. Slack re-sends an event it thinks we missed
(``X-Slack-Retry-Num``); a bounded TTL cache of event ids and message timestamps makes sure
each user message is answered once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError, web
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import Block as CoreBlock
from bot.core import (
    Bullets,
    ChatCore,
    Context,
    Heading,
    Incoming,
    Quote,
    Reply,
    Text,
    plain_text,
)
from config.settings import ConfigError, Settings

log = logging.getLogger(__name__)

# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_FALLBACK_CHARS = 3000

ACTION_PREFIX = "newsbrief:"
ACTION_PATTERN = re.compile(r"^newsbrief:")
WORKING_REACTION = "hourglass_flowing_sand"

#: ``/brief <word>`` subcommands; anything else is an article (text or link) to brief.
SUBCOMMANDS_NO_ARGS = frozenset({"help", "start", "who", "when", "timeline", "forget"})
SUBCOMMANDS_WITH_ARGS = frozenset({"quotes", "ask", "brief"})
#: ``/brief forget everything``: the stored subscriptions and settings go too.
FORGET_SCOPES = frozenset({"everything", "all"})
#: Longest one-line text after a plugin's word that still reads as its arguments
#: ("time 07:30", "topics trade tariffs"); longer prose is an article starting with the word.
PLUGIN_ARGS_MAX = 200
#: ... unless the arguments start with a feed link ("subscribe https://… keywords").
PLUGIN_URL_ARGS_MAX = 2000
#: Operator commands whose text is a message to send: taken whole (several lines) from admins.
FREE_TEXT_COMMANDS = frozenset({"broadcast"})

Block = dict[str, Any]

# --------------------------------------------------------------------------- rendering


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup, so user text stays text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escaped_len(char: str) -> int:
    return 5 if char == "&" else 4 if char in "<>" else 1


def split_text(text: str, limit: int) -> list[str]:
    """Raw pieces of ``text`` whose *escaped* form fits ``limit``, broken at whitespace.

    Splitting the raw text (not the escaped one) never cuts an ``&amp;`` in half.
    """
    pieces: list[str] = []
    start = 0
    size = 0
    last_space = -1
    i = 0
    while i < len(text):
        char = text[i]
        width = _escaped_len(char)
        if size + width > limit:
            cut = last_space + 1 if last_space >= start else i
            if cut == start:  # a single character wider than the limit cannot happen (limit >= 5)
                cut = i
            pieces.append(text[start:cut].rstrip())
            start = cut
            while start < len(text) and text[start] == " ":
                start += 1
            i = start
            size = 0
            last_space = -1
            continue
        if char.isspace():
            last_space = i
        size += width
        i += 1
    if start < len(text):
        pieces.append(text[start:])
    return [piece for piece in pieces if piece.strip()]


def _lines(text: str, limit: int, prefix: str = "", suffix: str = "") -> list[str]:
    """mrkdwn lines for plain text: each source line split, escaped and wrapped."""
    room = limit - len(prefix) - len(suffix)
    out: list[str] = []
    for line in text.splitlines() or [""]:
        if not line.strip():
            out.append(prefix.rstrip())
            continue
        out.extend(f"{prefix}{escape(piece)}{suffix}" for piece in split_text(line, room))
    return out


def _pack(lines: list[str], limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Join lines with newlines into as few texts as fit ``limit`` each."""
    texts: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        extra = len(line) + (1 if current else 0)
        if current and size + extra > limit:
            texts.append("\n".join(current))
            current, size = [], 0
            extra = len(line)
        current.append(line)
        size += extra
    if current:
        texts.append("\n".join(current))
    return [text for text in texts if text.strip()]


def _section(mrkdwn: str) -> Block:
    # verbatim: Slack must not turn words in article text into links or mentions.
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn, "verbatim": True}}


_URL_IN_ESCAPED = re.compile(r"https?://[^\s<>|*_~`]+")


def _linkify(escaped: str, limit: int = MAX_SECTION_CHARS) -> str:
    """Make http(s) URLs in already-escaped text clickable; no label, so nothing is disguised.

    Each link adds two characters, so a line dense with URLs stays plain when the links
    would push it over ``limit`` (Slack refuses the whole message otherwise).
    """
    linked = _URL_IN_ESCAPED.sub(lambda m: f"<{m.group(0)}>", escaped)
    return linked if len(linked) <= limit else escaped


def _cut_escaped(escaped: str, limit: int) -> str:
    """``escaped`` shortened to ``limit`` with an ellipsis, never inside an ``&amp;``."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp >= 0 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def _quote_lines(block: Quote) -> list[str]:
    said = f"“{block.text}”" if block.direct else block.text
    lines = _lines(said, MAX_SECTION_CHARS, prefix="> ")
    details = [escape(d) for d in (block.when, block.where) if d]
    if block.speaker:
        speaker = block.speaker.replace("_", " ").strip()
        details.insert(0, f"_{escape(speaker)}_")
    if details:
        lines.append(_cut_escaped("> — " + ", ".join(details), MAX_SECTION_CHARS))
    return lines


def _header(text: str) -> Block | None:
    text = " ".join(text.split())
    if not text:
        return None
    if len(text) > MAX_HEADER_CHARS:
        text = text[: MAX_HEADER_CHARS - 1].rstrip() + "…"
    # plain_text is never parsed for mentions or links, so it is not escaped.
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _buttons(reply: Reply) -> list[Block]:
    blocks: list[Block] = []
    elements: list[Block] = []
    for index, button in enumerate(reply.buttons):
        label = " ".join(button.label.split()) or "…"
        if len(label) > MAX_BUTTON_LABEL:
            label = label[: MAX_BUTTON_LABEL - 1] + "…"
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": label, "emoji": True},
                "action_id": f"{ACTION_PREFIX}{index}",  # unique per button in a message
                "value": button.payload[:MAX_BUTTON_VALUE],
            }
        )
    for start in range(0, len(elements), MAX_ACTIONS_ELEMENTS):
        blocks.append(
            {"type": "actions", "elements": elements[start : start + MAX_ACTIONS_ELEMENTS]}
        )
    return blocks


def render_blocks(reply: Reply) -> list[Block]:
    """A reply as Block Kit blocks (possibly more than 50: see :func:`render_messages`)."""
    blocks: list[Block] = []
    for block in reply.blocks:
        if isinstance(block, Heading):
            header = _header(block.text)
            if header:
                blocks.append(header)
        elif isinstance(block, Text):
            text = block.text.replace("*", "") if block.bold else block.text
            wrap = "*" if block.bold else ""
            lines = _lines(text, MAX_SECTION_CHARS, prefix=wrap, suffix=wrap)
            blocks.extend(_section(t) for t in _pack(lines))
        elif isinstance(block, Bullets):
            lines = []
            for item in block.items:
                item_lines = _lines(item, MAX_SECTION_CHARS, prefix="• ")
                lines.extend(item_lines)
            blocks.extend(_section(t) for t in _pack(lines))
        elif isinstance(block, Quote):
            blocks.extend(_section(t) for t in _pack(_quote_lines(block)))
        elif isinstance(block, Context):
            lines = [_linkify(t) for t in _lines(block.text, MAX_SECTION_CHARS)]
            texts = _pack(lines)
            for start in range(0, len(texts), MAX_CONTEXT_ELEMENTS):
                elements = [
                    {"type": "mrkdwn", "text": t, "verbatim": True}
                    for t in texts[start : start + MAX_CONTEXT_ELEMENTS]
                ]
                blocks.append({"type": "context", "elements": elements})
    blocks.extend(_buttons(reply))
    return blocks


def fallback_text(reply: Reply) -> str:
    """The notification / screen-reader text sent with the blocks: plain text, escaped."""
    text = plain_text(reply, buttons=False).strip() or "…"
    pieces = split_text(text, MAX_FALLBACK_CHARS - 1)
    return escape(pieces[0]) + ("…" if len(pieces) > 1 else "")


@dataclass(frozen=True)
class SlackMessage:
    """One message to post: the fallback ``text`` and at most 50 ``blocks``."""

    text: str
    blocks: list[Block]


def render_messages(reply: Reply) -> list[SlackMessage]:
    """A reply as one or more messages of at most 50 blocks each (buttons stay last)."""
    blocks = render_blocks(reply)
    if not blocks:
        return [SlackMessage(fallback_text(reply), [])]
    chunks = [blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)]
    first = fallback_text(reply)
    return [
        SlackMessage(first if n == 0 else "(continued)", chunk) for n, chunk in enumerate(chunks)
    ]


# --------------------------------------------------------------------------- parsing

_SLACK_MARKUP = re.compile(r"<([^<>\n]*)>")
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


def from_slack_text(text: str, *, bot_user_id: str | None = None) -> str:
    """Slack message markup to plain text: links to their URL, mentions to names, entities decoded.

    The bot's own mention is removed; a link keeps its URL (not its label) so the core can
    fetch the article.
    """

    def replace(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            if bot_user_id and target[1:] == bot_user_id:
                return ""
            return "@" + (label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            name = target[1:].split("^", 1)[0]
            return label or _SPECIAL.get(name, "@" + name)
        if target.startswith("mailto:"):
            return label or target[len("mailto:") :]
        return target  # a link: the URL itself

    text = _SLACK_MARKUP.sub(replace, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text.strip()


def parse_command_text(
    text: str, more: frozenset[str] = frozenset(), free: frozenset[str] = frozenset()
) -> tuple[str, str]:
    """``/brief`` text to a core command and its arguments.

    'quotes Trump' -> ('quotes', 'Trump'); 'who' -> ('who', ''); an article or a link ->
    ('brief', text). A subcommand word only counts when its arguments look like one, so an
    article that starts with "Who ..." is still an article. ``more``: the commands of the
    core's plugins ('subscribe https://…', 'time 07:30', 'stats'), each on one line and
    short, or markup (/import's OPML); ``free``: those whose arguments are taken whole
    (an operator's multi-line /broadcast).
    """
    text = text.strip()
    word, _, rest = text.partition(" ")
    name = word.lower().lstrip("/")
    args = rest.strip()
    if name in SUBCOMMANDS_NO_ARGS and not args:
        return ("help" if name == "start" else name), ""
    if name == "forget" and args.lower() in FORGET_SCOPES:
        return name, args.lower()
    if name in more and _plugin_args(args, name in free):
        return name, args
    if name in SUBCOMMANDS_WITH_ARGS and "\n" not in rest and (name != "quotes" or len(rest) <= 80):
        return name, args
    return "brief", text


def _plugin_args(args: str, free: bool) -> bool:
    """Whether text after a plugin's command word is its arguments rather than an article."""
    if free or args.startswith("<"):  # Slack escapes a typed "<", so this is pasted markup
        return True
    if "\n" in args:
        return False
    if args.startswith(("http://", "https://")):
        return len(args) <= PLUGIN_URL_ARGS_MAX
    return len(args) <= PLUGIN_ARGS_MAX


@functools.lru_cache(maxsize=8)
def _command_mention(words: frozenset[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w/.:<>&-])/({names})(?![\w/-])")


def slack_commands(reply: Reply, words: frozenset[str]) -> Reply:
    """The core's "/subscribe …" as a Slack user types it: "/brief subscribe …".

    Slack has one slash command, so every command the core names in its help and hints
    is a ``/brief`` subcommand. Only the bot's own lines change (text, small print,
    bullets); headings and quotes, which hold article words, stay as written.
    """
    words = words - {"brief", "start"}
    if not words:
        return reply
    pattern = _command_mention(words)

    def fix(text: str) -> str:
        return pattern.sub(r"/brief \1", text)

    blocks: list[CoreBlock] = []
    changed = False
    for block in reply.blocks:
        new: CoreBlock = block
        if isinstance(block, Text | Context):
            new = dataclasses.replace(block, text=fix(block.text))
        elif isinstance(block, Bullets):
            new = Bullets(tuple(fix(item) for item in block.items))
        changed = changed or new != block
        blocks.append(new)
    return dataclasses.replace(reply, blocks=tuple(blocks)) if changed else reply


# --------------------------------------------------------------------------- the bot


class SeenCache:
    """Keys seen in the last ``ttl_s`` seconds, at most ``limit`` of them (oldest dropped)."""

    def __init__(self, ttl_s: float = 1800.0, limit: int = 10_000):
        self.ttl_s = ttl_s
        self.limit = limit
        self._seen: OrderedDict[str, float] = OrderedDict()

    def add(self, *keys: str | None) -> bool:
        """Record the keys; True when any of them was already there (a duplicate)."""
        now = time.monotonic()
        while self._seen and next(iter(self._seen.values())) < now - self.ttl_s:
            self._seen.popitem(last=False)
        real = [key for key in keys if key]
        duplicate = any(key in self._seen for key in real)
        for key in real:
            self._seen[key] = now
            self._seen.move_to_end(key)
        while len(self._seen) > self.limit:
            self._seen.popitem(last=False)
        return duplicate

    def __len__(self) -> int:
        return len(self._seen)


class SlackBot:
    """Bolt listeners that turn Slack requests into core calls and post the replies."""

    def __init__(self, app: AsyncApp, core: ChatCore):
        self.app = app
        self.core = core
        self.seen = SeenCache()
        self._tasks: set[asyncio.Task[None]] = set()

    def _slack(self, reply: Reply) -> Reply:
        """A core reply with its command hints spelled the Slack way (``/brief time``)."""
        words = SUBCOMMANDS_NO_ARGS | SUBCOMMANDS_WITH_ARGS | self.core.plugin_commands()
        return slack_commands(reply, words)

    def register(self) -> None:
        self.app.event("message")(self.on_message)
        self.app.event("app_mention")(self.on_mention)
        self.app.command("/brief")(self.on_command)
        self.app.action(ACTION_PATTERN)(self.on_button)

    # --- listeners: acknowledge, then work in a task ------------------------------------

    async def on_message(
        self,
        event: dict[str, Any],
        body: dict[str, Any],
        request: AsyncBoltRequest,
        client: AsyncWebClient,
    ) -> None:
        """Direct messages only; edits, joins, bot posts and other subtypes are ignored."""
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        if self._duplicate(body, event, request):
            return
        self._spawn(self._answer_event(event, client, bot_user_id=None))

    async def on_mention(
        self,
        event: dict[str, Any],
        body: dict[str, Any],
        request: AsyncBoltRequest,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        if event.get("bot_id") or self._duplicate(body, event, request):
            return
        self._spawn(self._answer_event(event, client, bot_user_id=context.bot_user_id))

    async def on_command(
        self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()  # within Slack's 3 seconds; the brief follows through response_url
        sender = Incoming(
            "slack",
            chat_id=str(command.get("channel_id", "")),
            user_id=str(command.get("user_id", "")),
        )
        more = self.core.plugin_commands()
        free = FREE_TEXT_COMMANDS & more if self.core.is_admin(sender) else frozenset()
        name, args = parse_command_text(from_slack_text(command.get("text", "")), more, free)
        message = dataclasses.replace(sender, command=name, args=args)
        self._spawn(self._answer_command(message, respond))

    async def on_button(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        channel = str((body.get("channel") or {}).get("id", ""))
        message = body.get("message") or {}
        thread = message.get("thread_ts")
        if thread == message.get("ts"):  # the root of a thread is a top-level message
            thread = None
        incoming = Incoming(
            "slack",
            chat_id=channel,
            user_id=str((body.get("user") or {}).get("id", "")),
            thread_id=thread,
            button=str(action.get("value", "")),
        )
        self._spawn(self._answer_button(incoming, client, respond))

    # --- work ---------------------------------------------------------------------------

    def _duplicate(
        self, body: dict[str, Any], event: dict[str, Any], request: AsyncBoltRequest
    ) -> bool:
        """True for an event already taken: same event id, or one message seen twice."""
        retry_reason = (request.headers.get("x-slack-retry-reason") or [""])[0]
        message_key = f"msg:{event.get('channel')}:{event.get('ts')}" if event.get("ts") else None
        client_key = f"cmid:{event['client_msg_id']}" if event.get("client_msg_id") else None
        duplicate = self.seen.add(body.get("event_id"), message_key, client_key)
        if duplicate:
            log.info("skipping a repeated Slack event %s", body.get("event_id"))
            return True
        if retry_reason == "http_timeout":
            # The first delivery reached us and is still being answered (or was): never twice.
            log.info("skipping a Slack retry after a timeout: %s", body.get("event_id"))
            return True
        return False

    async def _answer_event(
        self, event: dict[str, Any], client: AsyncWebClient, bot_user_id: str | None
    ) -> None:
        channel = str(event.get("channel", ""))
        ts = str(event.get("ts", ""))
        thread = str(event.get("thread_ts") or ts) or None
        text = from_slack_text(str(event.get("text", "")), bot_user_id=bot_user_id)
        message = Incoming(
            "slack",
            chat_id=channel,
            user_id=str(event.get("user", "")),
            text=text,
            thread_id=thread,
        )
        word, _, scope = text.strip().lower().lstrip("/").partition(" ")
        if word == "forget" and (not scope or scope in FORGET_SCOPES):
            # Slash commands cannot be used in threads, so "@NewsBrief forget" (or "forget" in
            # a direct message's thread) is how a thread's conversation is forgotten.
            message = dataclasses.replace(message, command="forget", args=scope)
        reacted = False

        async def working() -> None:
            nonlocal reacted
            if not reacted and ts:
                reacted = await _call(
                    client.reactions_add(channel=channel, timestamp=ts, name=WORKING_REACTION)
                )

        replies = [self._slack(reply) for reply in await self.core.handle(message, working)]
        for reply in replies:
            in_thread = reply.in_thread or bool(event.get("thread_ts"))
            await self._post(client, channel, reply, thread if in_thread else None)
        if reacted:
            await _call(
                client.reactions_remove(channel=channel, timestamp=ts, name=WORKING_REACTION)
            )

    async def _answer_command(self, message: Incoming, respond: AsyncRespond) -> None:
        for reply in await self.core.handle(message):
            await self._respond(respond, self._slack(reply))

    async def _answer_button(
        self, message: Incoming, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        for reply in map(self._slack, await self.core.handle(message)):
            if message.thread_id:
                await self._post(client, message.chat_id, reply, message.thread_id)
            else:
                await self._respond(respond, reply)

    async def _post(
        self, client: AsyncWebClient, channel: str, reply: Reply, thread_ts: str | None
    ) -> None:
        for part in render_messages(reply):
            sent = await _call(
                client.chat_postMessage(
                    channel=channel,
                    text=part.text,
                    blocks=part.blocks or None,
                    thread_ts=thread_ts,
                    unfurl_links=False,
                    unfurl_media=False,
                )
            )
            if not sent:
                return

    async def _respond(self, respond: AsyncRespond, reply: Reply) -> None:
        for part in render_messages(reply):
            try:
                await respond(
                    text=part.text,
                    blocks=part.blocks or None,
                    response_type="in_channel",
                    replace_original=False,
                )
            except (ClientError, TimeoutError, OSError) as error:
                log.warning("Slack response_url failed: %s", error)
                return

    # --- tasks --------------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(_logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Let answers in progress finish (up to ``timeout_s``), then cancel the rest."""
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


async def _logged(work: Awaitable[None]) -> None:
    try:
        await work
    except Exception:
        log.exception("Slack handler failed")


async def _call(request: Awaitable[Any]) -> bool:
    """Run one Web API call; a failure is logged, not raised, so one bad call ends one reply."""
    try:
        await request
    except SlackApiError as error:
        log.warning("Slack API error: %s", error.response.get("error", error))
        return False
    except (ClientError, TimeoutError, OSError) as error:
        log.warning("Slack API unreachable: %s", error)
        return False
    return True


# --------------------------------------------------------------------------- wiring


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value().strip() if value is not None else ""


def check_tokens(settings: Settings) -> str | None:
    """A one-line problem with the Slack variables (never their values), or None."""
    bot_token = _secret(settings.slack_bot_token)
    if not bot_token:
        return (
            "SLACK_BOT_TOKEN is not set: use the Bot User OAuth Token (xoxb-...) of your Slack app"
        )
    if not bot_token.startswith("xoxb-"):
        return "SLACK_BOT_TOKEN must be a bot token starting with xoxb-"
    app_token = _secret(settings.slack_app_token)
    if app_token:
        if not app_token.startswith("xapp-"):
            return "SLACK_APP_TOKEN must be an app-level token starting with xapp- (Socket Mode)"
        return None
    if not _secret(settings.slack_signing_secret):
        return (
            "SLACK_SIGNING_SECRET is not set: HTTP mode needs it "
            "(or set SLACK_APP_TOKEN for Socket Mode)"
        )
    return None


def _build(settings: Settings, core: ChatCore) -> SlackBot:
    client = AsyncWebClient(
        token=_secret(settings.slack_bot_token) or None,
        base_url=settings.slack_api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),  # honours Retry-After
        ],
    )
    app = AsyncApp(
        name="newsbrief",
        client=client,
        signing_secret=_secret(settings.slack_signing_secret),
        process_before_response=False,  # ack at once, answer in the background
        logger=logging.getLogger("newsbrief.slack.bolt"),
    )
    bot = SlackBot(app, core)
    bot.register()
    return bot


def build_app(settings: Settings, core: ChatCore) -> AsyncApp:
    """The bolt app: Web API calls go to ``slack_api_url``; HTTP requests must be signed."""
    return _build(settings, core).app


def web_app(app: AsyncApp) -> web.Application:
    """POST /slack/events (events, commands, interactivity) and GET /healthz."""

    async def events(request: web.Request) -> web.Response:
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    application = web.Application(client_max_size=1024 * 1024)
    application.router.add_post("/slack/events", events)
    application.router.add_get("/healthz", health)
    return application


async def start_http_server(app: AsyncApp, *, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve the app over HTTP; returns the runner (to ``cleanup()``) and the bound port."""
    runner = web.AppRunner(web_app(app), access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = port
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            bound = int(address[1])
            break
    return runner, bound


async def run_slack(
    settings: Settings,
    core: ChatCore,
    *,
    stop: asyncio.Event,
    port: int = 3000,
    host: str = "0.0.0.0",
    started: asyncio.Future[int] | None = None,
) -> None:
    """Run until ``stop`` is set: Socket Mode with SLACK_APP_TOKEN, else an HTTP server.

    ``started`` receives the bound HTTP port (0 in Socket Mode) once Slack can reach us.
    """
    problem = check_tokens(settings)
    if problem:
        raise ConfigError(problem)
    bot = _build(settings, core)
    app_token = _secret(settings.slack_app_token)
    try:
        if app_token:
            await _run_socket_mode(bot.app, app_token, stop, started)
        else:
            runner, bound = await start_http_server(bot.app, host=host, port=port)
            log.info("Slack HTTP mode on %s:%d (POST /slack/events)", host, bound)
            try:
                if started is not None and not started.done():
                    started.set_result(bound)
                await stop.wait()
            finally:
                await runner.cleanup()
    finally:
        await bot.drain()


async def _run_socket_mode(
    app: AsyncApp, app_token: str, stop: asyncio.Event, started: asyncio.Future[int] | None
) -> None:
    # Imported here: Socket Mode pulls in the websocket client only when it is used.
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(app, app_token)
    # The SDK retries a failed connection forever, so connecting races with ``stop``.
    connecting = asyncio.create_task(handler.connect_async())  # type: ignore[no-untyped-call]
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if connecting.done():
            connecting.result()
            log.info("Slack Socket Mode connected")
            if started is not None and not started.done():
                started.set_result(0)
            await stopping
    finally:
        for task in (connecting, stopping):
            task.cancel()
        await asyncio.gather(connecting, stopping, return_exceptions=True)
        await handler.close_async()  # type: ignore[no-untyped-call]


__all__ = [
    "SeenCache",
    "SlackBot",
    "SlackMessage",
    "build_app",
    "check_tokens",
    "escape",
    "fallback_text",
    "from_slack_text",
    "parse_command_text",
    "render_blocks",
    "render_messages",
    "run_slack",
    "slack_commands",
    "start_http_server",
    "web_app",
]
