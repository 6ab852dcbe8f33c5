"""What an operator sees: Prometheus metrics over HTTP, JSON log lines, no tokens in logs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.core import ChatCore, Incoming
from bot.delivery import BriefScheduler, MemorySender, SendResult
from bot.observability import Metrics, configure_logging, metrics_server, secret_values
from bot.serve import serve
from bot.storage.db import Database
from config import Settings
from summarizer.models import ModelService
from tests.delivery.helpers import CONFIG, add_story, add_subscriber, at
from tests.fakes.telegram_api import serve_fake_telegram
from tests.storage.databases import Clock

ROOT = Path(__file__).resolve().parents[2]
BRIDGE = (ROOT / "examples" / "harbour-bridge-vote.txt").read_text("utf-8")


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta durations (ints warn, and warnings are errors here)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample at a /metrics URL, keyed by name and sorted labels."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def say(text: str, chat: str = "c1") -> Incoming:
    return Incoming("test", chat, "u1", text=text)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def test_requests_by_kind_and_latency_are_scraped_over_http(
    settings: Settings, models: ModelService, http: httpx.AsyncClient
) -> None:
    metrics = Metrics()
    core = ChatCore(settings, models, http, metrics=metrics)
    await core.handle(Incoming("test", "c1", "u1", command="help"))
    await core.handle(Incoming("test", "c1", "u1", command="nonsense"))
    await core.handle(say(BRIDGE))  # an article: a brief
    await core.handle(say("What did Okafor say about the cost?"))
    await core.handle(Incoming("test", "c1", "u1", button="no-such-button"))
    async with metrics_server(metrics, "127.0.0.1", 0) as port:
        samples = await scrape(f"http://127.0.0.1:{port}/metrics")
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/healthz")).text == "ok\n"
    count = {kind: samples[("newsbrief_requests_total", (("kind", kind),))] for kind in
             ("help", "command", "message", "button")}  # fmt: skip
    assert count == {"help": 1, "command": 1, "message": 2, "button": 1}
    latency = samples[("newsbrief_request_seconds_count", (("kind", "message"),))]
    assert latency == 2
    # The brief took real model work; /help did not.
    brief_time = samples[("newsbrief_request_seconds_sum", (("kind", "message"),))]
    help_time = samples[("newsbrief_request_seconds_sum", (("kind", "help"),))]
    assert brief_time > help_time
    assert samples[("newsbrief_model_queue_depth", ())] == 0
    assert samples[("newsbrief_deliveries_total", (("result", "sent"),))] == 0


async def test_model_queue_depth_counts_requests_waiting_for_a_worker(
    settings: Settings,
) -> None:
    from bot.observability import model_queue_depth

    service = ModelService(settings)  # one worker
    metrics = Metrics()
    metrics.watch_queues(model_queue_depth(service))
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def block() -> None:
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=30)

    try:
        running = [asyncio.create_task(service.run(block)) for _ in range(3)]
        await asyncio.sleep(0.2)
        async with metrics_server(metrics, "127.0.0.1", 0) as port:
            busy = await scrape(f"http://127.0.0.1:{port}/metrics")
            release.set()
            await asyncio.gather(*running)
            idle = await scrape(f"http://127.0.0.1:{port}/metrics")
    finally:
        release.set()
        service.close()
    assert busy[("newsbrief_model_queue_depth", ())] == 2  # one runs, two wait
    assert idle[("newsbrief_model_queue_depth", ())] == 0


async def test_deliveries_sent_failed_and_uncertain_are_counted(db: Database) -> None:
    clock = Clock(at("2025-06-01T07:00:00+00:00"))
    feed = "https://feeds.example/world.xml"
    await add_subscriber(db, clock, "gets-it", [feed])  # daily at 07:30 UTC
    await add_subscriber(db, clock, "api-down", [feed])
    await add_subscriber(db, clock, "timed-out", [feed])
    await add_story(db, clock, [feed], "Harbour bridge approved")
    clock.set(at("2025-06-01T07:30:00+00:00"))
    sender = MemorySender(
        script={
            "api-down": [SendResult.failed("HTTP 502")],
            "timed-out": [SendResult.uncertain("read timeout after the request left")],
        }
    )
    metrics = Metrics()
    scheduler = BriefScheduler(db, CONFIG, {"test": sender}, clock, owner="x", metrics=metrics)
    report = await scheduler.deliver_due()
    assert (report.sent, report.failed, report.uncertain) == (1, 1, 1)
    async with metrics_server(metrics, "127.0.0.1", 0) as port:
        samples = await scrape(f"http://127.0.0.1:{port}/metrics")
    assert samples[("newsbrief_deliveries_total", (("result", "sent"),))] == 1
    assert samples[("newsbrief_deliveries_total", (("result", "failed"),))] == 1
    assert samples[("newsbrief_deliveries_total", (("result", "uncertain"),))] == 1


async def test_serve_exposes_metrics_on_the_configured_port(settings: Settings) -> None:
    port = free_port()
    async with serve_fake_telegram() as telegram:
        configured = settings.model_copy(
            update={
                "telegram_bot_token": SecretStr(telegram.token),
                "telegram_api_url": telegram.api_url,
                "metrics_port": port,
                "metrics_host": "127.0.0.1",
            }
        )
        stop = asyncio.Event()
        running = asyncio.create_task(serve(configured, ["telegram"], stop=stop))
        telegram.push_command(42, "help")
        await telegram.wait_for_messages(42, 1, timeout=60)
        telegram.push_command(42, "subscriptions")  # a plugin's command
        await telegram.wait_for_messages(42, 2, timeout=60)
        samples = await scrape(f"http://127.0.0.1:{port}/metrics")
        stop.set()
        await asyncio.wait_for(running, timeout=60)
    assert samples[("newsbrief_requests_total", (("kind", "help"),))] == 1
    assert samples[("newsbrief_requests_total", (("kind", "subscriptions"),))] == 1
    assert ("newsbrief_work_queue_depth", ()) in samples
    with pytest.raises(httpx.ConnectError):  # the port closes with the bot
        await scrape(f"http://127.0.0.1:{port}/metrics")


async def test_a_busy_metrics_port_is_one_readable_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ValueError, match="NEWSBRIEF_METRICS_PORT"):
            async with metrics_server(Metrics(), "127.0.0.1", port):
                pass


# --------------------------------------------------------------------------- logs


def test_json_log_lines_carry_time_level_logger_message_and_extras() -> None:
    stream = io.StringIO()
    handler = configure_logging(verbose=True, json_lines=True, stream=stream)
    try:
        log = logging.getLogger("newsbrief.test")
        log.info("brief sent to %s", "c1", extra={"chat": "c1", "stories": 3})
        try:
            raise RuntimeError("feed\nbroken")
        except RuntimeError:
            log.exception("poll failed")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, "a traceback stays inside its one JSON line"
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "brief sent to c1"
    assert (first["level"], first["logger"]) == ("INFO", "newsbrief.test")
    assert (first["chat"], first["stories"]) == ("c1", 3)
    assert first["time"].startswith("20")
    assert second["level"] == "ERROR" and "RuntimeError: feed" in second["exc_info"]


def test_every_configured_secret_is_blanked_in_every_log_line(settings: Settings) -> None:
    token = "123456:AAH-secret-token-value-of-35-chars"
    configured = settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(token),
            "slack_bot_token": SecretStr("xoxb-1-slack-secret"),
            "database_url": "postgresql://bot:db-pass-word@db.internal/newsbrief",
        }
    )
    for json_lines in (False, True):
        stream = io.StringIO()
        handler = configure_logging(
            json_lines=json_lines, secrets=secret_values(configured), stream=stream
        )
        try:
            logging.getLogger("telegram.ext").warning("POST https://api/bot%s/getMe", token)
            logging.getLogger("slack_sdk").error(
                "auth failed", extra={"token": "xoxb-1-slack-secret"}
            )
            try:
                raise ConnectionError("postgresql://bot:db-pass-word@db.internal refused")
            except ConnectionError:
                logging.getLogger("sqlalchemy").exception("no database")
        finally:
            logging.getLogger().removeHandler(handler)
        output = stream.getvalue()
        for secret in (token, "xoxb-1-slack-secret", "db-pass-word"):
            assert secret not in output
        assert output.count("<redacted>") >= 3


async def test_json_logs_of_a_real_serve_run_and_no_token_in_them(tmp_path: Path) -> None:
    """The real CLI in a subprocess: every stderr line is JSON; the token is never printed."""
    port = free_port()
    async with serve_fake_telegram() as telegram:
        env = {
            **os.environ,
            "PTB_TIMEDELTA": "true",
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_API_URL": telegram.api_url,
            "NEWSBRIEF_LOG_JSON": "1",
            "NEWSBRIEF_DATA_DIR": str(tmp_path / "data"),
            "NEWSBRIEF_CACHE_DIR": str(tmp_path / "cache"),
            "NEWSBRIEF_METRICS_PORT": str(port),
            "NEWSBRIEF_METRICS_HOST": "127.0.0.1",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "-v", "serve", "telegram",
            env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            telegram.push_command(7, "help")
            await telegram.wait_for_messages(7, 1, timeout=90)
            samples = await scrape(f"http://127.0.0.1:{port}/metrics")
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0
    assert samples[("newsbrief_requests_total", (("kind", "help"),))] == 1
    text = stderr.decode()
    assert telegram.token not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert records, "a verbose serve run logs"
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    messages = [record["message"] for record in records]
    assert "serving telegram" in messages, messages


def test_a_crash_with_json_logs_keeps_every_log_line_json(tmp_path: Path) -> None:
    """A start-up failure logged with -v: the traceback rides inside one JSON record."""
    token = "123456789:AAHsecretSECRETsecretSECRETsecret12"
    env = {
        **os.environ,
        "PTB_TIMEDELTA": "true",
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_URL": f"http://127.0.0.1:{free_port()}/bot",  # nothing listens
        "NEWSBRIEF_LOG_JSON": "1",
        "NEWSBRIEF_DATA_DIR": str(tmp_path / "data"),
        "NEWSBRIEF_CACHE_DIR": str(tmp_path / "cache"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "-v", "serve", "telegram"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert token not in result.stderr
    lines = result.stderr.splitlines()
    user_lines = [line for line in lines if line.startswith("newsbrief: ")]
    assert len(user_lines) == 1, "one line for the person at the terminal"
    records = [json.loads(line) for line in lines if not line.startswith("newsbrief: ")]
    assert any("Traceback" in record.get("exc_info", "") for record in records)
