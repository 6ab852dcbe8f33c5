"""Soak: 200 chats on Telegram and Slack at once against one ``newsbrief serve all`` process.

The bot runs as its own process (so the memory readings are its own) against the fake
Telegram Bot API (long polling) and the fake Slack (Socket Mode) served here. Each chat
is a user in a loop: a distinct article (a variant of ``examples/*.txt`` with other
people, town and numbers), then follow-up questions, with think time between messages.
Reported: replies per second, p50/p95/p99 latency by kind (message on the fake server →
the bot's reply there), busy replies and errors and unanswered messages, and the bot's
RSS every 10 s with its growth after warm-up.

    PYTHONPATH=. .venv/bin/python benchmarks/soak.py [--minutes 10] [--telegram 150] [--slack 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
from _common import ROOT, machine, percentile

from tests.crash.helpers import BotProcess, bot_env
from tests.crash.load import (
    UNLIMITED,
    Chats,
    LoadResult,
    article_variant,
    drive,
    examples,
    slack_settings,
    wait_until_connected,
)
from tests.fakes.slack_api import serve_fake_slack
from tests.fakes.telegram_api import serve_fake_telegram

SAMPLE_EVERY_S = 10.0


async def sample_rss(pid: int, started: float, into: list[tuple[float, float]]) -> None:
    process = psutil.Process(pid)
    while True:
        try:
            into.append((time.perf_counter() - started, process.memory_info().rss / 2**20))
        except psutil.Error:
            return
        await asyncio.sleep(SAMPLE_EVERY_S)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    extra = dict(UNLIMITED)
    extra.update(dict(item.split("=", 1) for item in args.set))
    async with serve_fake_telegram() as telegram, serve_fake_slack() as slack:
        telegram.max_poll_s = 1.0
        data = Path(tempfile.mkdtemp(prefix="newsbrief-soak-"))
        env = bot_env(
            data,
            telegram=(telegram.api_url, telegram.token),
            slack=slack_settings(slack),
            extra=extra,
        )
        bot = BotProcess("all", env, data / "bot.log")
        started = time.perf_counter()
        await bot.start()
        rss: list[tuple[float, float]] = []
        sampler = asyncio.create_task(sample_rss(bot.pid, started, rss))
        try:
            await wait_until_connected(telegram, slack)
            async with Chats(telegram, slack, 300) as chats:  # loads the models
                text, _ = article_variant(10**6, examples())
                reply, warm_ms = await chats.telegram_turn(1, text)
                assert reply is not None, bot.log_tail()
            run_from = time.perf_counter() - started
            result = await drive(
                telegram,
                slack,
                telegram_chats=args.telegram,
                slack_chats=args.slack,
                seconds=args.minutes * 60,
                think_s=args.think_s,
                seed=args.seed,
            )
            run_to = time.perf_counter() - started
            code = await bot.terminate(timeout_s=120)
        finally:
            sampler.cancel()
            await bot.stop_quietly()
    return summarise(result, rss, run_from, run_to, warm_ms, code, args, bot.log_path)


def summarise(
    result: LoadResult,
    rss: list[tuple[float, float]],
    run_from: float,
    run_to: float,
    warm_ms: float,
    code: int,
    args: argparse.Namespace,
    log: Path,
) -> dict[str, Any]:
    kinds: dict[str, dict[str, float]] = {}
    for kind in ("article", "question"):
        done = [s.latency_ms for s in result.of(kind, "ok")]
        kinds[kind] = {
            "count": len(result.of(kind)),
            "ok": len(done),
            "p50": statistics.median(done) if done else float("nan"),
            "p95": percentile(done, 0.95) if done else float("nan"),
            "p99": percentile(done, 0.99) if done else float("nan"),
        }
    seconds = max(s.sent_at + s.latency_ms / 1000 for s in result.samples) if result.samples else 1
    warm_until = run_from + min(120.0, (run_to - run_from) / 4)
    after = [mb for t, mb in rss if t >= warm_until]
    return {
        "args": vars(args) | {"set": list(args.set)},
        "kinds": kinds,
        "replies": len(result.samples),
        "seconds": seconds,
        "busy": len(result.of(outcome="busy")),
        "errors": len(result.of(outcome="error")),
        "unanswered": len(result.of(outcome="unanswered")),
        "warm_ms": warm_ms,
        "rss": rss,
        "run_from": run_from,
        "warm_until": warm_until,
        "rss_after_warmup": (after[0], after[-1], max(after)) if after else None,
        "exit_code": code,
        "log_errors": sum("ERROR" in line for line in log.read_text("utf-8").splitlines()),
        "load": os.getloadavg(),
    }


def report(r: dict[str, Any]) -> str:
    a = r["args"]
    lines = [
        "# Soak: 200 chats on Telegram and Slack against one `serve all` process",
        "",
        f"Command: `PYTHONPATH=. .venv/bin/python benchmarks/soak.py --minutes {a['minutes']:g} "
        f"--telegram {a['telegram']} --slack {a['slack']} --think-s {a['think_s']:g}`",
        f"Machine: {machine()}; 1/5/15-minute load averages at the end "
        + " / ".join(f"{x:.1f}" for x in r["load"])
        + " (the cores were shared with other jobs).",
        "",
        f"{a['telegram']} Telegram chats (long polling) and {a['slack']} Slack DMs (Socket Mode)"
        f" for {a['minutes']:g} min, each a user who sends a distinct article, then 3 questions"
        f" about it (in its thread on Slack), {a['think_s']:g} s ± 50% apart; abuse limits"
        " raised out of the way. Latency: message on the fake server → the bot's reply there.",
        "",
        "| kind | sent | answered | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, k in r["kinds"].items():
        lines.append(
            f"| {kind} | {k['count']} | {k['ok']} | {k['p50']:.0f} | {k['p95']:.0f} | "
            f"{k['p99']:.0f} |"
        )
    lines += [
        "",
        f"Throughput: {r['replies']} replies in {r['seconds']:.0f} s = "
        f"{r['replies'] / r['seconds']:.2f} replies/s. "
        f"Busy replies: {r['busy']}; errors: {r['errors']}; unanswered: {r['unanswered']}; "
        f"ERROR lines in the bot's log: {r['log_errors']}; exit code after SIGTERM: "
        f"{r['exit_code']}.",
        f"First brief (models loading, before the run): {r['warm_ms']:.0f} ms.",
        "",
    ]
    if r["rss_after_warmup"]:
        first, last, peak = r["rss_after_warmup"]
        lines.append(
            f"Memory (RSS of the bot process): {first:.0f} MB after warm-up "
            f"({r['warm_until'] - r['run_from']:.0f} s into the run), {last:.0f} MB at the end, "
            f"peak {peak:.0f} MB: growth after warm-up {last - first:+.0f} MB."
        )
    lines += ["", "| s since start | RSS MB |", "|---:|---:|"]
    step = max(1, len(r["rss"]) // 30)
    lines += [f"| {t:.0f} | {mb:.0f} |" for t, mb in r["rss"][::step]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--telegram", type=int, default=150)
    parser.add_argument("--slack", type=int, default=50)
    parser.add_argument("--think-s", type=float, default=30.0, help="mean gap between messages")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], metavar="NEWSBRIEF_X=VALUE")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/soak.md")
    arguments = parser.parse_args()
    outcome = asyncio.run(main(arguments))
    text = report(outcome)
    print(text)
    arguments.out.write_text(text, "utf-8")
