"""A fake Telegram Bot API server on 127.0.0.1 (port 0) for end-to-end tests.

It speaks the real wire format at ``{base}/bot<token>/<method>`` (JSON, form or
multipart bodies), so python-telegram-bot runs unmodified against it: point
``TELEGRAM_API_URL`` (``settings.telegram_api_url``) at :attr:`FakeTelegram.api_url`.

Tests queue updates (``push_text``, ``push_command``, ``push_callback``) that the
bot long-polls with getUpdates, and inspect what the bot sent (``sent``,
``calls``, ``wait_for_messages``). Flood control (429) and blocked chats (403)
can be switched on to test the bot's error paths. HTML messages are checked like
Telegram does: unsupported or unbalanced tags, a bare ``<`` or ``&`` and texts
over 4,096 characters are rejected with 400.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

DEFAULT_TOKEN = "123456789:AAFakeTokenForTests_0123456789abcde"
BOT_ID = 123456789
BOT_USERNAME = "newsbrief_test_bot"

#: Parameters that are text even when they look like JSON (e.g. a message "42").
TEXT_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "action",
        "callback_query_id",
        "url",
        "secret_token",
        "inline_message_id",
        "language_code",
        "ip_address",
        "description",
        "short_description",
        "name",
    }
)
#: Tags Telegram accepts in HTML parse mode.
HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-spoiler",
        "span",
        "tg-emoji",
    }
)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s[^<>]*)?)>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9A-Fa-f]+);")
_AUTO_ENTITIES = re.compile(r"(?P<command>(?<!\S)/[A-Za-z0-9_]+(?:@\w+)?)|(?P<mention>@\w{5,32})")


class BotApiError(Exception):
    """An error answer: HTTP status, Bot API description and optional parameters."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def utf16_len(text: str) -> int:
    """Telegram counts offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def telegram_html_text(source: str) -> str:
    """The plain text of a Telegram HTML message; ValueError where Telegram would refuse it."""
    stack: list[str] = []
    out: list[str] = []
    position = 0

    def text(chunk: str) -> str:
        if "<" in chunk or ">" in chunk:
            raise ValueError(f"can't parse entities: unexpected '<' or '>' in {chunk[:40]!r}")
        for index in (m.start() for m in re.finditer("&", chunk)):
            if not _ENTITY.match(chunk, index):
                raise ValueError(f"can't parse entities: bare '&' in {chunk[index : index + 20]!r}")
        return html.unescape(chunk)

    for match in _TAG.finditer(source):
        out.append(text(source[position : match.start()]))
        position = match.end()
        closing, name = match.group(1), match.group(2).lower()
        if name not in HTML_TAGS:
            raise ValueError(f'can\'t parse entities: unsupported start tag "{name}"')
        if closing:
            if not stack or stack[-1] != name:
                raise ValueError(f'can\'t parse entities: unmatched end tag "{name}"')
            stack.pop()
        else:
            stack.append(name)
    out.append(text(source[position:]))
    if stack:
        raise ValueError(f"can't parse entities: unclosed start tag {stack[-1]!r}")
    return "".join(out)


@dataclass
class SentMessage:
    """One sendMessage the bot made, as Telegram stored it."""

    chat_id: int
    message_id: int
    text: str  # what the bot sent (HTML source in HTML parse mode)
    plain: str  # what the user sees
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    params: dict[str, Any]

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]


@dataclass
class FakeTelegram:
    """The fake server's state; ``api_url`` is what the bot uses as its base URL."""

    token: str = DEFAULT_TOKEN
    base_url: str = ""
    bot_user: dict[str, Any] = field(
        default_factory=lambda: {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "NewsBrief",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
    )
    #: Longest a getUpdates call waits, whatever timeout the bot asks for.
    max_poll_s: float = 1.0
    calls: list[ApiCall] = field(default_factory=list)
    sent: list[SentMessage] = field(default_factory=list)
    rejected: list[ApiCall] = field(default_factory=list)
    webhook: dict[str, Any] | None = None
    commands: list[dict[str, Any]] = field(default_factory=list)
    chat_types: dict[int, str] = field(default_factory=dict)
    blocked_chats: set[int] = field(default_factory=set)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _next_update_id: int = 1
    _next_message_id: int = 1000
    _flood: list[int] = field(default_factory=list)  # retry_after for the next sendMessage calls
    _delays: dict[str, list[tuple[float, Callable[[dict[str, Any]], bool]]]] = field(
        default_factory=dict
    )
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _closing: bool = False

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/bot"

    # --- test controls ----------------------------------------------------------------------

    def flood(self, count: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``count`` sendMessage calls with 429 Too Many Requests."""
        self._flood.extend([retry_after] * count)

    def slow_down(
        self,
        method: str,
        seconds: float,
        count: int = 1,
        when: Callable[[dict[str, Any]], bool] = lambda _: True,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` matching ``when`` after ``seconds``."""
        self._delays.setdefault(method.lower(), []).extend([(seconds, when)] * count)

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: sending to this chat answers 403 Forbidden."""
        self.blocked_chats.add(chat_id)

    def method_calls(self, method: str) -> list[dict[str, Any]]:
        return [call.params for call in self.calls if call.method == method]

    def messages(self, chat_id: int) -> list[SentMessage]:
        return [message for message in self.sent if message.chat_id == chat_id]

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 30.0,  # noqa: ASYNC109 - a deadline per wait reads best in tests
    ) -> list[SentMessage]:
        """The first ``count`` messages sent to a chat, waiting for them to arrive."""
        await self.wait_until(
            lambda: len(self.messages(chat_id)) >= count,
            timeout,
            lambda: f"{count} message(s) in chat {chat_id}; got {self._previews(chat_id)}",
        )
        return self.messages(chat_id)[:count]

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda _: True,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        await self.wait_until(
            lambda: any(predicate(p) for p in self.method_calls(method)),
            timeout,
            lambda: f"a {method} call",
        )
        return next(p for p in self.method_calls(method) if predicate(p))

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109
        what: Callable[[], str],
    ) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            changed = self._changed
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout} s waiting for {what()}")
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                continue

    def _previews(self, chat_id: int) -> list[str]:
        return [message.plain[:80] for message in self.messages(chat_id)]

    # --- updates ----------------------------------------------------------------------------

    def user(self, user_id: int) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": f"User{user_id}",
            "language_code": "en",
        }

    def chat(self, chat_id: int, chat_type: str | None = None) -> dict[str, Any]:
        kind = (
            chat_type
            or self.chat_types.get(chat_id)
            or ("private" if chat_id > 0 else "supergroup")
        )
        self.chat_types[chat_id] = kind
        if kind == "private":
            return {"id": chat_id, "type": kind, "first_name": f"User{chat_id}"}
        return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}

    def text_update(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        reply_to_message_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A message update as Telegram sends it; /commands and @mentions get their entities."""
        chat = self.chat(chat_id, chat_type)
        sender = user_id if user_id is not None else (chat_id if chat["type"] == "private" else 1)
        message = self._message(chat_id, text, self.user(sender))
        if entities is None:
            entities = [
                {
                    "type": "bot_command" if match.group("command") else "mention",
                    "offset": utf16_len(text[: match.start()]),
                    "length": utf16_len(match.group(0)),
                }
                for match in _AUTO_ENTITIES.finditer(text)
            ]
            # Telegram only marks a command at the very start of a message as a command.
            entities = [e for e in entities if e["type"] != "bot_command" or e["offset"] == 0]
        if entities:
            message["entities"] = entities
        if reply_to_message_id is not None:
            original = self._find_sent(chat_id, reply_to_message_id)
            message["reply_to_message"] = original or self._message(chat_id, "", self.bot_user)
        return {"message": message}

    def command_update(
        self,
        chat_id: int,
        command: str,
        args: str = "",
        *,
        user_id: int | None = None,
        to_bot: bool = False,
    ) -> dict[str, Any]:
        head = f"/{command}" + (f"@{self.bot_user['username']}" if to_bot else "")
        return self.text_update(
            chat_id, f"{head} {args}".rstrip() if args else head, user_id=user_id
        )

    def callback_update(
        self, chat_id: int, data: str, message_id: int, *, user_id: int | None = None
    ) -> dict[str, Any]:
        """A button press on one of the bot's messages."""
        sender = user_id if user_id is not None else (chat_id if chat_id > 0 else 1)
        message = self._find_sent(chat_id, message_id) or self._message(chat_id, "", self.bot_user)
        query_id = f"cbq-{self._next_update_id}-{time.monotonic_ns()}"
        return {
            "callback_query": {
                "id": query_id,
                "from": self.user(sender),
                "chat_instance": f"ci{chat_id}",
                "data": data,
                "message": message,
            }
        }

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (numbered like Telegram does)."""
        update = {"update_id": self._next_update_id, **update}
        self._next_update_id = update["update_id"] + 1
        self._updates.append(update)
        self._notify()
        return update

    def push_text(self, chat_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        return self.push(self.text_update(chat_id, text, **kwargs))

    def push_command(
        self, chat_id: int, command: str, args: str = "", **kwargs: Any
    ) -> dict[str, Any]:
        return self.push(self.command_update(chat_id, command, args, **kwargs))

    def push_callback(
        self, chat_id: int, data: str, message_id: int, **kwargs: Any
    ) -> dict[str, Any]:
        return self.push(self.callback_update(chat_id, data, message_id, **kwargs))

    def next_update_id(self) -> int:
        """Take an update id for an update delivered another way (a webhook POST)."""
        self._next_update_id += 1
        return self._next_update_id - 1

    # --- the Bot API ------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["bot"] != f"bot{self.token}":
            return _error(BotApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        params = await _params(request)
        call = ApiCall(method, params)
        self.calls.append(call)
        self._notify()
        handler = getattr(self, f"api_{method.lower()}", None)
        if handler is None:
            return _error(BotApiError(404, "Not Found"))
        delays = self._delays.get(method.lower(), [])
        for index, (seconds, when) in enumerate(delays):
            if when(params):
                del delays[index]
                await asyncio.sleep(seconds)
                break
        try:
            result = await handler(params)
        except BotApiError as error:
            self.rejected.append(call)
            self._notify()
            return _error(error)
        finally:
            self._notify()
        return web.json_response({"ok": True, "result": result})

    async def api_getme(self, params: dict[str, Any]) -> Any:
        return self.bot_user

    async def api_getupdates(self, params: dict[str, Any]) -> Any:
        if self.webhook:
            raise BotApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), self.max_poll_s)
        deadline = asyncio.get_running_loop().time() + wait
        while not self._updates and not self._closing:
            changed = self._changed
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                break
        return self._updates[:limit]

    async def api_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def api_setwebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def api_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        url = (self.webhook or {}).get("url", "")
        return {
            "url": url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def api_sendmessage(self, params: dict[str, Any]) -> Any:
        chat_id = self._check_chat(params)
        if self._flood:
            retry_after = self._flood.pop(0)
            raise BotApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        text = str(params.get("text") or "")
        parse_mode = params.get("parse_mode")
        plain = text
        if parse_mode and str(parse_mode).lower() == "html":
            try:
                plain = telegram_html_text(text)
            except ValueError as error:
                raise BotApiError(400, f"Bad Request: {error}") from None
        if not plain.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > 4096:
            raise BotApiError(400, "Bad Request: message is too long")
        message = self._message(chat_id, plain, self.bot_user)
        markup = params.get("reply_markup")
        if markup:
            message["reply_markup"] = markup
        self.sent.append(
            SentMessage(
                chat_id, message["message_id"], text, plain, parse_mode, markup or None, params
            )
        )
        return message

    async def api_sendchataction(self, params: dict[str, Any]) -> Any:
        self._check_chat(params)
        return True

    async def api_answercallbackquery(self, params: dict[str, Any]) -> Any:
        return True

    async def api_editmessagetext(self, params: dict[str, Any]) -> Any:
        return self._edit(params, text=str(params.get("text") or ""))

    async def api_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        return self._edit(params)

    async def api_setmycommands(self, params: dict[str, Any]) -> Any:
        self.commands = list(params.get("commands") or [])
        return True

    async def api_getmycommands(self, params: dict[str, Any]) -> Any:
        return self.commands

    async def api_deletemycommands(self, params: dict[str, Any]) -> Any:
        self.commands = []
        return True

    async def api_close(self, params: dict[str, Any]) -> Any:
        return True

    async def api_logout(self, params: dict[str, Any]) -> Any:
        return True

    # --- internals --------------------------------------------------------------------------

    def _check_chat(self, params: dict[str, Any]) -> int:
        if "chat_id" not in params:
            raise BotApiError(400, "Bad Request: chat_id is empty")
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked_chats:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _message(self, chat_id: int, text: str, sender: dict[str, Any]) -> dict[str, Any]:
        self._next_message_id += 1
        message: dict[str, Any] = {
            "message_id": self._next_message_id,
            "date": int(time.time()),
            "chat": self.chat(chat_id),
            "from": sender,
        }
        if text:
            message["text"] = text
        return message

    def _find_sent(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        for sent in self.sent:
            if sent.chat_id == chat_id and sent.message_id == message_id:
                message = {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": self.chat(chat_id),
                    "from": self.bot_user,
                    "text": sent.plain,
                }
                if sent.reply_markup:
                    message["reply_markup"] = sent.reply_markup
                return message
        return None

    def _edit(self, params: dict[str, Any], text: str | None = None) -> Any:
        if "inline_message_id" in params:
            return True
        chat_id = self._check_chat(params)
        message_id = int(params.get("message_id") or 0)
        for sent in self.sent:
            if sent.chat_id == chat_id and sent.message_id == message_id:
                if text is not None:
                    sent.text = sent.plain = text
                if "reply_markup" in params:
                    sent.reply_markup = params["reply_markup"] or None
                return self._find_sent(chat_id, message_id)
        raise BotApiError(400, "Bad Request: message to edit not found")

    def _notify(self) -> None:
        """Wake everyone waiting for a change (long polls, test waits)."""
        self._changed.set()
        self._changed = asyncio.Event()

    def close(self) -> None:
        self._closing = True
        self._notify()


async def _params(request: web.Request) -> dict[str, Any]:
    """Bot API parameters from the query string, a JSON body or form fields (values JSON)."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
        return params
    if request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            params[key] = value if not isinstance(value, str) else _decode(key, value)
    return params


def _decode(key: str, value: str) -> Any:
    if key in TEXT_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _error(error: BotApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.code)


@asynccontextmanager
async def serve_fake_telegram(token: str = DEFAULT_TOKEN) -> AsyncIterator[FakeTelegram]:
    """Run a fake Bot API on 127.0.0.1 with a free port; stops waiting long polls on exit."""
    fake = FakeTelegram(token=token)
    app = web.Application()
    app.router.add_route("*", "/{bot}/{method}", fake.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield fake
    finally:
        fake.close()
        await runner.cleanup()
