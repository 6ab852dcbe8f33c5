"""``newsbrief serve``: Telegram, Slack or both in one process and one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence

from bot.app import running_bot
from bot.observability import Metrics, metrics_server, model_queue_depth
from config.settings import Settings

log = logging.getLogger(__name__)

PLATFORMS = ("telegram", "slack", "all")


class StartupError(ValueError):
    """Configuration that prevents start-up; one line naming the variable to fix."""


def chosen_platforms(name: str) -> list[str]:
    return ["telegram", "slack"] if name == "all" else [name]


def check_configuration(
    settings: Settings, platforms: Sequence[str], *, webhook_url: str | None
) -> None:
    """Fail fast, before any model loads, on missing or malformed tokens."""
    if "telegram" in platforms:
        from bot.telegram import check_token

        problem = check_token(settings)
        if problem:
            raise StartupError(problem)
        if webhook_url and settings.telegram_webhook_secret is None:
            raise StartupError("webhook mode needs TELEGRAM_WEBHOOK_SECRET (a random string)")
    if "slack" in platforms:
        from bot.slack import check_tokens

        problem = check_tokens(settings)
        if problem:
            raise StartupError(problem)


async def serve(
    settings: Settings,
    platforms: Sequence[str],
    *,
    webhook_url: str | None = None,
    telegram_port: int = 8443,
    slack_port: int = 3000,
    stop: asyncio.Event | None = None,
    metrics: Metrics | None = None,
) -> None:
    """Run the chosen platforms until SIGINT/SIGTERM (or ``stop``), then drain and exit.

    With ``NEWSBRIEF_METRICS_PORT`` set, Prometheus metrics are served there
    (``metrics`` is made here when the caller passes none).
    """
    stop = stop or asyncio.Event()
    if metrics is None and settings.metrics_port:
        metrics = Metrics()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
            handled.append(signum)
    try:
        await _run_platforms(
            settings, platforms, stop, webhook_url, telegram_port, slack_port, metrics
        )
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)


async def _run_platforms(
    settings: Settings,
    platforms: Sequence[str],
    stop: asyncio.Event,
    webhook_url: str | None,
    telegram_port: int,
    slack_port: int,
    metrics: Metrics | None = None,
) -> None:
    async with running_bot(settings, metrics=metrics) as bot, contextlib.AsyncExitStack() as stack:
        core = bot.core
        if metrics is not None:
            metrics.watch_queues(model_queue_depth(core.models), lambda: float(core.work.waiting))
            # Plugin commands (/subscribe, /stats, ...) get their own label too.
            metrics.commands |= {name for plugin in core.plugins for name in plugin.commands}
            if settings.metrics_port:
                await stack.enter_async_context(
                    metrics_server(metrics, settings.metrics_host, settings.metrics_port)
                )
        runners = [bot.scheduler.run(stop)]
        if "telegram" in platforms:
            from bot.telegram import run_telegram

            runners.append(
                run_telegram(settings, core, stop=stop, webhook_url=webhook_url, port=telegram_port)
            )
        if "slack" in platforms:
            from bot.slack import run_slack

            runners.append(run_slack(settings, core, stop=stop, port=slack_port))
        log.info("serving %s", ", ".join(platforms))
        await asyncio.gather(*runners)
