"""A fake Slack: Web API and ``response_url`` endpoints on 127.0.0.1, and a signing client.

``serve_fake_slack()`` answers the Web API methods our apps call with realistic bodies and
records every call, so tests assert on what would have appeared in Slack. Point the app at
``fake.api_url`` (``settings.slack_api_url``). ``SlackSender`` sends requests to an app's
``/slack/events`` the way Slack does: signed with the signing secret, as JSON (events) or
form-encoded (slash commands, ``payload=`` for interactivity).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0FAKE001"
API_APP_ID = "A0FAKE001"


@dataclass
class ApiCall:
    """One request the app made: the Web API method (or ``response_url``) and its arguments."""

    method: str
    payload: dict[str, Any]
    token: str | None = None
    response: dict[str, Any] | None = None

    @property
    def channel(self) -> str | None:
        value = self.payload.get("channel")
        return str(value) if value is not None else None

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.payload.get("blocks") or [])


@dataclass
class FakeSlack:
    """State of the fake: recorded calls, queued failures, the URLs to give the app."""

    base_url: str = ""
    calls: list[ApiCall] = field(default_factory=list)
    #: method -> list of Slack error codes to answer with, one per call (e.g. "not_in_channel").
    failures: dict[str, list[str]] = field(default_factory=dict)
    rate_limited: int = 0
    retry_after_s: int = 0
    #: Socket Mode: open connections, and the acks the app sent back ({"envelope_id": ...}).
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    # Bot message ts values never collide with the ones SlackSender makes for users.
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(500_001))
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.base_url}/respond/{name}"

    # --- configuring ---------------------------------------------------------------------

    def rate_limit(self, calls: int, retry_after_s: int = 0) -> None:
        """Answer the next ``calls`` Web API calls with 429 and ``Retry-After``."""
        self.rate_limited = calls
        self.retry_after_s = retry_after_s

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with ``{"ok": false, "error": error}``."""
        self.failures.setdefault(method, []).extend([error] * times)

    # --- reading -------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def posts(self, channel: str | None = None) -> list[ApiCall]:
        """Successful chat.postMessage calls, optionally to one channel."""
        return [
            call
            for call in self.calls_to("chat.postMessage")
            if (channel is None or call.channel == channel) and (call.response or {}).get("ok")
        ]

    def responses(self, name: str | None = None) -> list[ApiCall]:
        """Messages sent to a ``response_url`` (``respond()`` in bolt)."""
        wanted = "response_url" if name is None else f"response_url:{name}"
        return [call for call in self.calls if call.method.startswith(wanted)]

    # A plain ``timeout`` argument (not asyncio.timeout) keeps test code short: one call, one limit.
    async def wait_for(self, predicate: Any, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Wait until ``predicate()`` is true; AssertionError (with the calls so far) on timeout."""

        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        try:
            await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            seen = [(c.method, c.channel) for c in self.calls]
            raise AssertionError(f"timed out after {timeout}s; calls so far: {seen}") from None

    async def wait_for_posts(
        self,
        channel: str | None,
        n: int = 1,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> list[ApiCall]:
        await self.wait_for(lambda: len(self.posts(channel)) >= n, timeout)
        return self.posts(channel)

    async def wait_for_responses(
        self,
        n: int = 1,
        timeout: float = 30.0,  # noqa: ASYNC109
        name: str | None = None,
    ) -> list[ApiCall]:
        await self.wait_for(lambda: len(self.responses(name)) >= n, timeout)
        return self.responses(name)

    # --- serving -------------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    async def _record(self, call: ApiCall) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        payload = await _read_payload(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        token = token or (str(payload.pop("token")) if "token" in payload else None)
        if self.rate_limited > 0:
            self.rate_limited -= 1
            body = {"ok": False, "error": "ratelimited"}
            await self._record(ApiCall(method, payload, token, body))
            return web.json_response(
                body, status=429, headers={"Retry-After": str(self.retry_after_s)}
            )
        if token is None:
            body = {"ok": False, "error": "not_authed"}
        elif self.failures.get(method):
            body = {"ok": False, "error": self.failures[method].pop(0)}
        else:
            body = self._answer(method, payload)
        await self._record(ApiCall(method, payload, token, body))
        return web.json_response(body)

    def _answer(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake-workspace.slack.com/",
                "team": "Fake Workspace",
                "user": "newsbrief",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method in ("chat.postMessage", "chat.update"):
            ts = str(payload.get("ts") or self._next_ts())
            message: dict[str, Any] = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "text": payload.get("text", ""),
                "ts": ts,
            }
            if payload.get("blocks"):
                message["blocks"] = payload["blocks"]
            if payload.get("thread_ts"):
                message["thread_ts"] = payload["thread_ts"]
            return {"ok": True, "channel": payload.get("channel"), "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in ("reactions.add", "reactions.remove"):
            return {"ok": True}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.base_url.replace("http://", "ws://") + "/socket"}
        if method == "conversations.info":
            channel = str(payload.get("channel", ""))
            return {
                "ok": True,
                "channel": {"id": channel, "is_im": channel.startswith("D"), "is_member": True},
            }
        return {"ok": False, "error": "unknown_method"}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then record the app's acks until it hangs up."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async with self._changed:
            self.sockets.append(ws)
            self._changed.notify_all()
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                async with self._changed:
                    self.socket_acks.append(json.loads(message.data))
                    self._changed.notify_all()
        return ws

    async def send_envelope(
        self, payload: dict[str, Any], envelope_type: str = "events_api"
    ) -> str:
        """Deliver a payload over Socket Mode as Slack does; returns the envelope id to ack."""
        await self.wait_for(lambda: bool(self.sockets), timeout=10)
        envelope_id = f"env-{next(self._ts)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": envelope_type != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        await self.sockets[-1].send_json(envelope)
        return envelope_id

    async def _respond(self, request: web.Request) -> web.Response:
        payload = await _read_payload(request)
        await self._record(ApiCall(f"response_url:{request.match_info['name']}", payload))
        return web.Response(text="ok")


async def _read_payload(request: web.Request) -> dict[str, Any]:
    """A Web API request's arguments: query string (slack_sdk's ``params``), then JSON or form.

    Form fields holding JSON (``blocks``, ``attachments``, ``metadata``) are decoded.
    """
    payload: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        data = await request.json()
        if isinstance(data, dict):
            payload.update(data)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            text = str(value)
            if key in ("blocks", "attachments", "metadata") and text[:1] in "[{":
                payload[key] = json.loads(text)
            else:
                payload[key] = text
    return payload


@asynccontextmanager
async def serve_fake_slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack on 127.0.0.1 and a free port, stopped on exit."""
    fake = FakeSlack()
    app = web.Application()
    app.router.add_post("/api/{method}", fake._api)
    app.router.add_get("/api/{method}", fake._api)
    app.router.add_post("/respond/{name}", fake._respond)
    app.router.add_get("/socket", fake._socket)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.base_url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        for ws in fake.sockets:
            await ws.close()
        await runner.cleanup()


# --------------------------------------------------------------------------- signed requests


def sign(secret: str, timestamp: int | str, body: str) -> str:
    """Slack's request signature: ``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Sent:
    """The app's HTTP answer to one request, and how long it took."""

    status: int
    body: str
    elapsed_s: float


class SlackSender:
    """Sends Events API, slash command and interactivity requests to an app, signed like Slack."""

    def __init__(self, url: str, signing_secret: str, session: aiohttp.ClientSession):
        self.url = url
        self.signing_secret = signing_secret
        self.session = session
        self._ids = itertools.count(1)

    async def send(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Sent:
        """POST a raw body; the signature is computed unless one is given (to forge it)."""
        ts = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature or sign(self.signing_secret, ts, body),
            **(headers or {}),
        }
        started = time.monotonic()
        async with self.session.post(self.url, data=body.encode(), headers=all_headers) as resp:
            text = await resp.text()
        return Sent(resp.status, text, time.monotonic() - started)

    def new_ts(self) -> str:
        """A fresh message ts, as Slack makes them."""
        return f"{int(time.time())}.{next(self._ids):06d}"

    # --- Events API ----------------------------------------------------------------------

    def event_envelope(self, event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        return {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": API_APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
        }

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        **send_options: Any,
    ) -> Sent:
        headers = dict(send_options.pop("headers", None) or {})
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        body = json.dumps(self.event_envelope(event, event_id))
        return await self.send(body, "application/json", headers=headers, **send_options)

    def message_event(
        self,
        text: str,
        *,
        channel: str = "D0USER001",
        user: str = "U0USER001",
        ts: str | None = None,
        thread_ts: str | None = None,
        channel_type: str = "im",
        **extra: Any,
    ) -> dict[str, Any]:
        """A user's message event (``message.im`` by default)."""
        event: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts or self.new_ts(),
            "client_msg_id": f"cmid-{next(self._ids)}",
            "channel_type": channel_type,
            "team": TEAM_ID,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        event.update(extra)
        return event

    def mention_event(
        self,
        text: str,
        *,
        channel: str = "C0CHAN001",
        user: str = "U0USER001",
        ts: str | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """An ``app_mention``: the text starts with the bot's mention, as in Slack."""
        event = self.message_event(
            f"<@{BOT_USER_ID}> {text}", channel=channel, user=user, ts=ts, thread_ts=thread_ts
        )
        event["type"] = "app_mention"
        del event["channel_type"]
        return event

    # --- slash commands and interactivity -----------------------------------------------

    async def command(
        self,
        text: str,
        *,
        command: str = "/brief",
        channel_id: str = "C0CHAN001",
        user_id: str = "U0USER001",
        response_url: str = "",
        **send_options: Any,
    ) -> Sent:
        form = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "fake-workspace",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": "reader",
            "command": command,
            "text": text,
            "api_app_id": API_APP_ID,
            "response_url": response_url,
            "trigger_id": f"trigger.{next(self._ids)}",
        }
        body = urllib.parse.urlencode(form)
        return await self.send(body, "application/x-www-form-urlencoded", **send_options)

    async def block_action(
        self,
        value: str,
        *,
        action_id: str = "newsbrief:0",
        channel_id: str = "D0USER001",
        user_id: str = "U0USER001",
        message_ts: str = "",
        thread_ts: str | None = None,
        response_url: str = "",
        **send_options: Any,
    ) -> Sent:
        """A button press on a message (``block_actions``) sent as ``payload=<json>``."""
        message: dict[str, Any] = {"type": "message", "user": BOT_USER_ID, "ts": message_ts}
        if thread_ts:
            message["thread_ts"] = thread_ts
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "fake-workspace"},
            "user": {"id": user_id, "name": "reader", "team_id": TEAM_ID},
            "api_app_id": API_APP_ID,
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
                **({"thread_ts": thread_ts} if thread_ts else {}),
            },
            "trigger_id": f"trigger.{next(self._ids)}",
            "channel": {"id": channel_id, "name": "directmessage"},
            "message": message,
            "response_url": response_url,
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "text": {"type": "plain_text", "text": "Quotes"},
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return await self.send(body, "application/x-www-form-urlencoded", **send_options)
