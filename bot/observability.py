"""Logs and metrics for operators: JSON log lines, secret redaction, Prometheus metrics.

Nothing here is global: :func:`configure_logging` is called by ``main()`` once the
settings are known, and a :class:`Metrics` object owns its own
``CollectorRegistry``; ``serve`` makes one and passes it down to the chat core and
the delivery scheduler, so tests can run many side by side.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Protocol, TextIO

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

if TYPE_CHECKING:
    from bot.core.messages import Incoming
    from config.settings import Settings
    from summarizer.models import ModelService

#: Commands of the chat core that get their own ``kind`` label; others count as "command".
CORE_COMMANDS = frozenset(
    {"start", "help", "brief", "ask", "quotes", "who", "when", "timeline", "forget"}
)

#: Latency buckets in seconds: questions take tens of milliseconds, briefs several seconds.
REQUEST_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

REDACTED = "<redacted>"

_HANDLER_NAME = "newsbrief"


# --------------------------------------------------------------------------- logs


def secret_values(settings: Settings) -> list[str]:
    """Every token and secret in the settings (and the database password), for redaction."""
    from pydantic import SecretStr

    values = [
        value.get_secret_value().strip()
        for _name, value in settings
        if isinstance(value, SecretStr)
    ]
    if settings.database_url:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            password = make_url(settings.database_url).password
        except ArgumentError:
            password = None
        if password:
            values.append(str(password))
    return [value for value in values if len(value) >= 4]  # shorter would blank ordinary words


class RedactingFormatter(logging.Formatter):
    """Formats with ``inner`` and then blanks out secrets in the finished line.

    Redacting the finished text (not the record) also covers arguments, extra
    fields and tracebacks, whatever logger the record came from.
    """

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str] = ()):
        super().__init__()
        self.inner = inner
        # Longest first, so a secret that contains another is blanked whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


def json_formatter() -> logging.Formatter:
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        ["levelname", "name", "message"],
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        json_ensure_ascii=False,
    )


def text_formatter() -> logging.Formatter:
    return logging.Formatter("%(levelname)s %(name)s: %(message)s")


def configure_logging(
    *,
    verbose: bool = False,
    json_lines: bool = False,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Install (or replace) NewsBrief's stderr handler on the root logger.

    Only our own handler is replaced, so a second call (tests call ``main()``
    repeatedly) does not stack handlers, and other handlers are left alone.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        RedactingFormatter(json_formatter() if json_lines else text_formatter(), secrets)
    )
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    return handler


# --------------------------------------------------------------------------- metrics


class DeliveryCounts(Protocol):
    """What a delivery pass reports (``bot.delivery.DeliveryReport``)."""

    sent: int
    failed: int
    blocked: int
    uncertain: int


class Metrics:
    """The process's Prometheus metrics, in a registry of its own."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        commands: Iterable[str] = CORE_COMMANDS,
    ):
        self.registry = registry if registry is not None else CollectorRegistry()
        self.commands = frozenset(commands)
        self.requests = Counter(
            "newsbrief_requests",
            "Chat requests handled, by kind (message, button or command name).",
            ["kind"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "newsbrief_request_seconds",
            "Time to answer one chat request, by kind.",
            ["kind"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.model_queue_depth = Gauge(
            "newsbrief_model_queue_depth",
            "Model requests waiting for a free model worker.",
            registry=self.registry,
        )
        self.work_queue_depth = Gauge(
            "newsbrief_work_queue_depth",
            "Briefs and /digests waiting in line for a work slot (NEWSBRIEF_WORK_MAX_ACTIVE).",
            registry=self.registry,
        )
        self.deliveries = Counter(
            "newsbrief_deliveries",
            "Daily briefs by result: sent, failed (retried later), blocked (chat gone), "
            "uncertain (may have arrived; never sent again).",
            ["result"],
            registry=self.registry,
        )
        for result in ("sent", "failed", "blocked", "uncertain"):
            self.deliveries.labels(result=result)  # present (at 0) from the start

    def kind(self, message: Incoming) -> str:
        """A label with a bounded set of values, whatever users type."""
        if message.button:
            return "button"
        command = (message.command or "").lower()
        if command:
            return command if command in self.commands else "command"
        return "message"

    @contextmanager
    def request(self, message: Incoming) -> Iterator[None]:
        """Count one request and time it, also when it fails."""
        kind = self.kind(message)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.requests.labels(kind=kind).inc()
            self.request_seconds.labels(kind=kind).observe(time.perf_counter() - started)

    def delivered(self, result: str, count: int = 1) -> None:
        """Record briefs sent, failed, blocked or of uncertain arrival by one delivery pass."""
        if count:
            self.deliveries.labels(result=result).inc(count)

    def delivery_pass(self, report: DeliveryCounts) -> None:
        """Add one delivery pass's outcome (a ``bot.delivery.DeliveryReport``)."""
        self.delivered("sent", report.sent)
        self.delivered("failed", report.failed)
        self.delivered("blocked", report.blocked)
        self.delivered("uncertain", report.uncertain)

    def watch_queues(
        self, model_depth: Callable[[], float], work_depth: Callable[[], float] | None = None
    ) -> None:
        """Read the queue depths at each scrape (no polling task, never stale)."""
        self.model_queue_depth.set_function(model_depth)
        if work_depth is not None:
            self.work_queue_depth.set_function(work_depth)


def model_queue_depth(models: ModelService) -> Callable[[], float]:
    """How many model requests wait for a worker in a ``ModelService``'s pool."""

    def depth() -> float:
        return float(models.queue_depth())

    return depth


@asynccontextmanager
async def metrics_server(metrics: Metrics, host: str, port: int) -> AsyncIterator[int]:
    """Serve ``/metrics`` (Prometheus text) and ``/healthz`` on the running event loop.

    Yields the bound port (useful with port 0). It shares the bot's loop, so it
    stops with it and needs no thread.
    """
    from aiohttp import web
    from prometheus_client.aiohttp import make_aiohttp_handler

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    app = web.Application()
    app.router.add_get("/metrics", make_aiohttp_handler(metrics.registry))
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as error:  # one line for the operator, not a traceback
            raise ValueError(
                f"cannot serve metrics on {host}:{port} ({error.strerror or error}); "
                "set NEWSBRIEF_METRICS_PORT to a free port"
            ) from None
        bound = int(runner.addresses[0][1]) if runner.addresses else port
        logging.getLogger(__name__).info("metrics on http://%s:%d/metrics", host, bound)
        yield bound
    finally:
        await runner.cleanup()
