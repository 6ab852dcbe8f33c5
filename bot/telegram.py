"""The Telegram adapter: Telegram updates in, :class:`Incoming` to the core, HTML messages out.

All product behaviour lives in :class:`bot.core.ChatCore`; this module only
translates. Updates are processed concurrently (the core serialises each chat),
so one slow brief never holds up other chats. Every string from users or
articles is HTML-escaped here, and long replies are split on block boundaries
into messages under Telegram's 4,096-character limit.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import logging
import re
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Final
from urllib.parse import urlsplit

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core import Block, Bullets, ChatCore, Context, Heading, Incoming, Quote, Reply, Text
from config.settings import Settings

log = logging.getLogger(__name__)

TelegramApp = Application[Any, Any, Any, Any, Any, Any]
Run = tuple[str, tuple[str, ...]]  # plain text and the tags around it, outermost first

#: Telegram's limit on a message's text (we count the HTML source, in UTF-16 units).
MESSAGE_LIMIT: Final = 4096
#: Telegram's limit on a button's callback data.
CALLBACK_DATA_LIMIT: Final = 64

COMMANDS: Final = (
    ("brief", "Brief an article: /brief <link or text>"),
    ("ask", "Ask about the article: /ask <question>"),
    ("quotes", "Quotes, optionally from one speaker: /quotes [name]"),
    ("who", "Who said what"),
    ("when", "Timeline of the article's events"),
    ("forget", "Forget the articles in this chat"),
    ("subscribe", "Daily brief from a feed: /subscribe <feed URL> [keywords]"),
    ("unsubscribe", "Stop a feed: /unsubscribe <feed URL|all>"),
    ("subscriptions", "Your feeds and settings"),
    ("topics", "Only stories about: /topics <keywords>"),
    ("time", "When your daily brief comes: /time 07:30"),
    ("timezone", "Your time zone: /timezone Europe/Berlin"),
    ("stories", "How many stories: /stories 5"),
    ("digest", "Today's brief now"),
    ("pause", "Pause the daily brief"),
    ("resume", "Resume the daily brief"),
    ("import", "Import feeds: /import <OPML>"),
    ("help", "How to use the bot"),
    ("start", "Start"),
)
ALLOWED_UPDATES: Final = (Update.MESSAGE, Update.CALLBACK_QUERY)
FRIENDLY_ERROR: Final = "Sorry — something went wrong on my side. Please try again in a moment."

_TOKEN = re.compile(r"^\d{5,16}:[A-Za-z0-9_-]{30,50}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_NO_PREVIEW: Final = LinkPreviewOptions(is_disabled=True)
_SEND_ATTEMPTS: Final = 3
_TYPING_EVERY_S: Final = 4.5
_TYPING_MAX: Final = 12


# --------------------------------------------------------------------------- configuration


def check_token(settings: Settings) -> str | None:
    """A one-line error when TELEGRAM_BOT_TOKEN is missing or malformed, else None."""
    secret = settings.telegram_bot_token
    token = secret.get_secret_value().strip() if secret is not None else ""
    if not token:
        return "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token."
    if not _TOKEN.match(token):
        return (
            "TELEGRAM_BOT_TOKEN does not look like a bot token "
            "(expected <digits>:<about 35 letters, digits, _ or ->, as @BotFather gives it)."
        )
    return None


def webhook_secret(settings: Settings) -> str:
    """The webhook secret, required so that only Telegram can post updates to us."""
    secret = settings.telegram_webhook_secret
    value = secret.get_secret_value() if secret is not None else ""
    if not value:
        raise ValueError(
            "webhook mode needs TELEGRAM_WEBHOOK_SECRET (1-256 characters: A-Z, a-z, 0-9, _ and -)."
        )
    if not _SECRET.match(value):
        raise ValueError(
            "TELEGRAM_WEBHOOK_SECRET may only contain A-Z, a-z, 0-9, _ and - (1-256 characters)."
        )
    return value


def _file_url(api_url: str) -> str:
    """Files live next to the API: https://host/bot -> https://host/file/bot."""
    base, sep, tail = api_url.rstrip("/").rpartition("/")
    return f"{base}/file/{tail}" if sep else f"{api_url.rstrip('/')}/file/bot"


# --------------------------------------------------------------------------- application


def build_application(settings: Settings, core: ChatCore) -> TelegramApp:
    """A PTB application wired to the core: handlers, one error handler, rate limits."""
    problem = check_token(settings)
    if problem is not None:
        raise ValueError(problem)
    assert settings.telegram_bot_token is not None
    token = settings.telegram_bot_token.get_secret_value().strip()
    application: TelegramApp = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_url)
        .base_file_url(_file_url(settings.telegram_api_url))
        # Bounded concurrency: chats run side by side, the core keeps each chat in order.
        .concurrent_updates(64)
        # Flood limits are waited out before sending; a 429 is retried after retry_after.
        .rate_limiter(AIORateLimiter(max_retries=2))
        .build()
    )
    adapter = TelegramAdapter(core, token)
    only_messages = filters.UpdateType.MESSAGE  # edited messages are not re-answered
    for name, _ in COMMANDS:
        application.add_handler(CommandHandler(name, adapter.on_command, filters=only_messages))
    application.add_handler(
        MessageHandler(only_messages & filters.TEXT & ~filters.COMMAND, adapter.on_text)
    )
    # Unknown commands: the core explains; in groups they may be meant for another bot.
    application.add_handler(
        MessageHandler(
            only_messages & filters.COMMAND & filters.ChatType.PRIVATE, adapter.on_command
        )
    )
    application.add_handler(CallbackQueryHandler(adapter.on_button))
    application.add_error_handler(adapter.on_error)
    return application


class TelegramAdapter:
    """Translates updates into :class:`Incoming`, calls the core, sends its replies."""

    def __init__(self, core: ChatCore, token: str):
        self.core = core
        self._token = token
        self._in_order = ChatOrder()

    # --- handlers -------------------------------------------------------------------------

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None or update.effective_chat is None:
            return
        command, args = split_command(message.text)
        await self._handle(update, context.bot, message, command=command, args=args)

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        chat = update.effective_chat
        if message is None or message.text is None or chat is None:
            return
        text = message.text
        if chat.type != ChatType.PRIVATE:
            addressed, text = addressed_text(message, context.bot)
            if not addressed:
                return  # group chatter not meant for us
        await self._handle(update, context.bot, message, text=text)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat = update.effective_chat
        if query is None:
            return
        try:  # answer first: the client shows a spinner until we do
            await query.answer()
        except TelegramError as error:
            log.info("could not answer callback query: %s", self._redact(str(error)))
        if chat is None or not query.data:
            return
        user = update.effective_user
        thread_id = _thread_id(query.message if isinstance(query.message, Message) else None)
        incoming = Incoming(
            platform="telegram",
            chat_id=str(chat.id),
            user_id=str(user.id) if user else "",
            thread_id=str(thread_id) if thread_id else None,
            button=query.data,
        )
        await self._answer(incoming, context.bot, chat.id, thread_id)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one place errors end up: logged without the token; the user gets a kind word."""
        error = context.error
        if isinstance(error, Forbidden):
            log.info("Telegram refused a message (bot blocked or removed): %s", error)
            return
        if isinstance(error, NetworkError):
            log.warning("Telegram network error: %s", self._redact(str(error)))
        else:
            details = "".join(traceback.format_exception(error)) if error else "unknown error"
            log.error("error while handling a Telegram update:\n%s", self._redact(details))
        if isinstance(update, Update) and update.effective_chat is not None:
            try:
                await context.bot.send_message(update.effective_chat.id, FRIENDLY_ERROR)
            except TelegramError as send_error:
                log.info(
                    "could not report the error to the chat: %s", self._redact(str(send_error))
                )

    # --- core round trip ------------------------------------------------------------------

    async def _handle(
        self,
        update: Update,
        bot: Bot,
        message: Message,
        *,
        text: str = "",
        command: str | None = None,
        args: str = "",
    ) -> None:
        chat = update.effective_chat
        assert chat is not None
        user = update.effective_user
        thread_id = _thread_id(message)
        incoming = Incoming(
            platform="telegram",
            chat_id=str(chat.id),
            user_id=str(user.id) if user else "",
            text=text,
            thread_id=str(thread_id) if thread_id else None,
            command=command,
            args=args,
        )
        await self._answer(incoming, bot, chat.id, thread_id)

    async def _answer(
        self, incoming: Incoming, bot: Bot, chat_id: int, thread_id: int | None
    ) -> None:
        repeat = int(incoming.chat_id) > 0  # groups have tight flood limits: one "typing" only
        # The core keeps a chat's answers in order; this keeps their delivery in order too.
        async with self._in_order.hold(incoming.chat_key):
            async with typing_indicator(bot, chat_id, thread_id, repeat=repeat) as on_work:
                replies = await self.core.handle(incoming, on_work)
            await self.deliver(bot, chat_id, replies, thread_id=thread_id)

    async def deliver(
        self,
        bot: Bot,
        chat_id: int | str,
        replies: Sequence[Reply],
        *,
        thread_id: int | None = None,
    ) -> bool:
        """Send replies as HTML messages; False when the chat refuses them (bot blocked)."""
        for reply in replies:
            parts = render_html(reply)
            markup = render_keyboard(reply)
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                if not await send_html(bot, chat_id, part, markup if last else None, thread_id):
                    return False
        return True

    def _redact(self, text: str) -> str:
        return redact(text, self._token)


class ChatOrder:
    """One turn at a time per chat, so a quick answer never overtakes a slow one being sent.

    Locks exist only while a chat has work in flight, so idle chats cost nothing.
    """

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str, str], tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: tuple[str, str, str]) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


# --------------------------------------------------------------------------- sending


async def send_html(
    bot: Bot,
    chat_id: int | str,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    thread_id: int | None = None,
) -> bool:
    """Send one HTML message, waiting out flood control; False if the chat blocked the bot."""
    for attempt in range(1, _SEND_ATTEMPTS + 1):
        try:
            await bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=_NO_PREVIEW,
                message_thread_id=thread_id,
            )
            return True
        except RetryAfter as error:  # the rate limiter already retried; be patient once more
            if attempt == _SEND_ATTEMPTS:
                raise
            delay = retry_seconds(error)
            log.info("Telegram flood control: waiting %.1f s before resending", delay)
            await asyncio.sleep(delay)
        except Forbidden as error:
            log.info("chat %s refuses messages (%s); not sending", chat_id, error.message)
            return False
    return False  # pragma: no cover - the loop returns or raises


def retry_seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after is an int today and a timedelta with PTB_TIMEDELTA=true."""
    value = error.retry_after
    seconds = value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)
    return min(max(seconds, 0.0), 60.0) + 0.1


@asynccontextmanager
async def typing_indicator(
    bot: Bot, chat_id: int, thread_id: int | None, *, repeat: bool
) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """The core's on_work callback: "typing…" while the models work, refreshed every few seconds."""
    tasks: list[asyncio.Task[None]] = []

    async def send_typing() -> None:
        try:
            await bot.send_chat_action(chat_id, ChatAction.TYPING, message_thread_id=thread_id)
        except TelegramError as error:
            log.debug("typing indicator failed: %s", type(error).__name__)

    async def keep_typing() -> None:
        for _ in range(_TYPING_MAX):
            await asyncio.sleep(_TYPING_EVERY_S)
            await send_typing()

    async def on_work() -> None:
        if tasks:
            return
        await send_typing()
        if repeat:
            tasks.append(asyncio.create_task(keep_typing(), name=f"typing:{chat_id}"))

    try:
        yield on_work
    finally:
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


# --------------------------------------------------------------------------- translating


def split_command(text: str) -> tuple[str, str]:
    """'/quotes@NewsBriefBot Okafor' -> ('quotes', 'Okafor'); newlines in the args are kept."""
    parts = text.strip().split(None, 1)
    if not parts:
        return "", ""
    name = parts[0].lstrip("/").split("@", 1)[0].lower()
    return name, parts[1].strip() if len(parts) > 1 else ""


def addressed_text(message: Message, bot: Bot) -> tuple[bool, str]:
    """In groups: is the message for us (a mention or a reply to us), and its text without @us."""
    text = message.text or ""
    username = (bot.username or "").lower()
    addressed = False
    mentions = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    for entity, mention in mentions.items():
        is_us = (entity.type == MessageEntity.MENTION and mention.lower() == f"@{username}") or (
            entity.user is not None and entity.user.id == bot.id
        )
        if is_us:
            addressed = True
            if entity.type == MessageEntity.MENTION:
                text = text.replace(mention, "")
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        addressed = True
    return addressed, text.strip()


def _thread_id(message: Message | None) -> int | None:
    """Forum topics keep their own conversation and get answers in the same topic."""
    if message is not None and message.is_topic_message and message.message_thread_id:
        return message.message_thread_id
    return None


# --------------------------------------------------------------------------- rendering


def render_keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons in one row (two rows when labels are long)."""
    buttons = []
    for button in reply.buttons:
        data = callback_data(button.payload)
        if data:
            buttons.append(InlineKeyboardButton(button.label, callback_data=data))
    if not buttons:
        return None
    width = 3 if sum(len(b.text) for b in buttons) <= 32 else 2
    return InlineKeyboardMarkup([buttons[i : i + width] for i in range(0, len(buttons), width)])


def callback_data(payload: str) -> str:
    """Telegram takes 1-64 bytes of callback data; longer payloads are trimmed (and logged)."""
    encoded = payload.encode("utf-8")
    if len(encoded) <= CALLBACK_DATA_LIMIT:
        return payload
    log.warning("button payload over %d bytes trimmed: %r", CALLBACK_DATA_LIMIT, payload[:80])
    return encoded[:CALLBACK_DATA_LIMIT].decode("utf-8", errors="ignore")


def render_html(reply: Reply, limit: int = MESSAGE_LIMIT) -> list[str]:
    """A reply as Telegram HTML messages, each under ``limit``, split between blocks.

    Every string is escaped. A block longer than a message is split between
    sentences or lines (words as a last resort), its tags closed and reopened
    in each part.
    """
    separator: Run = ("\n\n", ())
    parts: list[list[Run]] = []
    current: list[Run] = []
    for block in reply.blocks:
        runs = _block_runs(block)
        if not any(text.strip() for text, _ in runs):
            continue
        candidate = [*current, separator, *runs] if current else runs
        if _size(candidate) <= limit:
            current = candidate
            continue
        if _size(runs) <= limit:
            if current:
                parts.append(current)
            current = runs
            continue
        # One block longer than a message: it starts in the current part where it fits.
        start = [*current, separator] if current else []
        *full, current = _split_runs(runs, limit, start)
        parts.extend(full)
    if current:
        parts.append(current)
    rendered = (_render(_trim(part)) for part in parts)
    return [message for message in rendered if message]


def _block_runs(block: Block) -> list[Run]:
    if isinstance(block, Heading):
        return [(block.text, ("b",))]
    if isinstance(block, Text):
        return [(block.text, ("b",) if block.bold else ())]
    if isinstance(block, Bullets):
        return [("\n".join(f"• {item}" for item in block.items), ())]
    if isinstance(block, Quote):
        outer = ("blockquote",)
        runs: list[Run] = [(f"“{block.text}”" if block.direct else block.text, outer)]
        if block.speaker:
            runs += [("\n— ", outer), (block.speaker, (*outer, "i"))]
        details = ", ".join(d for d in (block.when, block.where) if d)
        if details:
            runs.append(((", " if block.speaker else "\n— ") + details, outer))
        return runs
    if isinstance(block, Context):
        return [(block.text, ("i",))]
    raise TypeError(f"unknown block {type(block).__name__}")  # pragma: no cover


def _render(runs: Sequence[Run]) -> str:
    """Runs as HTML; tags open and close as the runs' tag stacks change, always balanced."""
    out: list[str] = []
    stack: tuple[str, ...] = ()
    for text, tags in runs:
        if not text:
            continue
        common = 0
        while common < min(len(stack), len(tags)) and stack[common] == tags[common]:
            common += 1
        out.extend(f"</{tag}>" for tag in reversed(stack[common:]))
        out.extend(f"<{tag}>" for tag in tags[common:])
        out.append(html.escape(text, quote=False))
        stack = tags
    out.extend(f"</{tag}>" for tag in reversed(stack))
    return "".join(out)


def _size(runs: Sequence[Run]) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(_render(runs).encode("utf-16-le")) // 2


def _trim(runs: list[Run]) -> list[Run]:
    """No whitespace at a message's start or end (where a split fell between sentences)."""
    runs = [run for run in runs if run[0]]
    if runs:
        runs[0] = (runs[0][0].lstrip(), runs[0][1])
        runs[-1] = (runs[-1][0].rstrip(), runs[-1][1])
    return [run for run in runs if run[0]]


# A sentence ends at punctuation (maybe inside closing quotes) and whitespace, or a line ends.
_SENTENCE_END = re.compile(r"\n+|(?<=[.!?\u2026])[\"\u201d\u2019)\]]*\s+")
_WORD = re.compile(r"\S+\s*|\s+")


def _split_runs(runs: Sequence[Run], limit: int, start: list[Run]) -> list[list[Run]]:
    """One over-long block as several parts within ``limit``, continuing the ``start`` part."""
    pieces: list[Run] = []
    for text, tags in runs:
        for sentence in _pieces(text, _SENTENCE_END):
            pieces.extend(_fit((sentence, tags), limit))
    parts: list[list[Run]] = []
    current: list[Run] = list(start)
    for piece in pieces:
        if current and _size([*current, piece]) > limit:
            parts.append(current)
            current = []
        current.append(piece)
    if current:
        parts.append(current)
    return parts


def _fit(piece: Run, limit: int) -> Iterator[Run]:
    """A sentence that fits alone, else its words, else (a giant word) its characters."""
    if _size([piece]) <= limit:
        yield piece
        return
    text, tags = piece
    words = list(_pieces(text, _WORD, whole=True))
    if len(words) > 1:
        for word in words:
            yield from _fit((word, tags), limit)
        return
    overhead = _size([("x", tags)]) - 1
    step = max(1, (limit - overhead) // 6)  # "&amp;" is 5 units, a surrogate pair 2
    for start in range(0, len(text), step):
        yield (text[start : start + step], tags)


def _pieces(text: str, boundary: re.Pattern[str], *, whole: bool = False) -> Iterator[str]:
    """Text cut after each boundary match; the whitespace stays with the piece before it."""
    if whole:
        yield from (m.group(0) for m in boundary.finditer(text))
        return
    start = 0
    for match in boundary.finditer(text):
        if match.end() > start:
            yield text[start : match.end()]
            start = match.end()
    if start < len(text):
        yield text[start:]


# --------------------------------------------------------------------------- running


def redact(text: str, token: str) -> str:
    return text.replace(token, "<token>") if token else text


_LEAKY_LOGGERS: Final = ("httpx", "httpcore", "telegram")


class _RedactToken(logging.Filter):
    """httpx logs request URLs, and the Bot API puts the token in every URL."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = redact(message, self.token), None
        return True


@contextmanager
def _token_redacted(token: str) -> Iterator[None]:
    """Redact the token in HTTP and PTB loggers (a filter sees only its own logger's records)."""
    names = [name for name in logging.root.manager.loggerDict if name.startswith(_LEAKY_LOGGERS)]
    loggers = [logging.getLogger(name) for name in ("httpx", *names)]
    redactor = _RedactToken(token)
    for logger in loggers:
        logger.addFilter(redactor)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(redactor)


async def run_telegram(
    settings: Settings,
    core: ChatCore,
    *,
    stop: asyncio.Event,
    webhook_url: str | None = None,
    listen: str = "0.0.0.0",
    port: int = 8443,
    poll_timeout: float = 10.0,
) -> None:
    """Run the bot until ``stop`` is set: long polling, or a webhook server when a URL is given.

    It shares the caller's event loop, so ``serve all`` can run Slack beside it.
    """
    secret = webhook_secret(settings) if webhook_url else None
    problem = check_token(settings)
    if problem is not None:
        raise ValueError(problem)
    assert settings.telegram_bot_token is not None
    with _token_redacted(settings.telegram_bot_token.get_secret_value().strip()):
        application = build_application(settings, core)
        try:
            await application.initialize()  # getMe: fails fast on a revoked token
        except InvalidToken:
            raise ValueError(
                "Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather."
            ) from None
        try:
            await _set_commands(application.bot)
            await application.start()
            updater = application.updater
            assert updater is not None
            if webhook_url:
                await updater.start_webhook(
                    listen=listen,
                    port=port,
                    url_path=urlsplit(webhook_url).path or "/",
                    webhook_url=webhook_url,
                    secret_token=secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
                log.info("Telegram webhook listening on %s:%d", listen, port)
            else:
                await updater.start_polling(
                    timeout=dtm.timedelta(seconds=poll_timeout), allowed_updates=ALLOWED_UPDATES
                )
                log.info("Telegram bot @%s polling for updates", application.bot.username)
            await stop.wait()
        finally:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()


async def _set_commands(bot: Bot) -> None:
    """Keep the command menu in Telegram in step with the handlers."""
    try:
        await bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
    except TelegramError as error:
        log.warning("could not set the bot's command list: %s", type(error).__name__)
