"""How expensive is each kind of chat request? (decides what the rate limits and queue cover)

Through ``ChatCore.handle`` with the real models, one request at a time, after a
warm-up brief in another chat that loads the models: a new article brief (each of
``examples/*.txt`` and the shared seed articles pasted into its own chat), 5 questions
on each analysed article, /help and /quotes (50 each), and one rate-limit bucket check
(``RateLimits.acquire``, 100,000 calls). Bursts are raised so no request is refused.

    PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/limits_cost.py [--repeat 50]
        [--checks 100000] [--cache-dir DIR] [--out benchmarks/results/limits_cost.md]

Shared articles come from NEWSBRIEF_SHARED_DATA (default ../shared/data), seed/*.txt;
without them only the examples are used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from _common import ROOT, machine, percentile

from bot.core import ChatCore, Incoming
from bot.core.limits import RateLimits
from config import Settings, load_settings
from summarizer.models import ModelService

RESULTS = ROOT / "benchmarks" / "results" / "limits_cost.md"
WARM_UP = ROOT / "examples" / "stadium-deal.html"
QUESTIONS = (
    "Who said what about the cost?",
    "When was the vote?",
    "What did the mayor say?",
    "quote him",
    "and what else did he say?",
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50, help="/help and /quotes calls each")
    parser.add_argument("--checks", type=int, default=100_000, help="bucket checks timed")
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="model cache (default: a throwaway one)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results markdown file")
    return parser.parse_args(argv)


def articles() -> list[Path]:
    """The invented examples, then the shared seed articles when they are there."""
    data = Path(os.environ.get("NEWSBRIEF_SHARED_DATA", ROOT.parent / "shared" / "data"))
    return sorted((ROOT / "examples").glob("*.txt")) + sorted((data / "seed").glob("*.txt"))


@dataclass
class Costs:
    briefs_ms: list[float]
    questions_ms: list[float]
    quotes_ms: list[float]
    helps_ms: list[float]
    check_us: float  # mean over `checks` calls
    checks: int
    articles: list[str]


def bucket_check_us(settings: Settings, checks: int) -> float:
    """Mean microseconds of one ``acquire`` for a question (the cheapest kind to limit)."""
    limits = RateLimits(settings)
    message = Incoming("test", "c", "u", text="x")
    started = time.perf_counter()
    for _ in range(checks):
        limits.acquire(message, "question")
    return (time.perf_counter() - started) / checks * 1e6


async def measure(settings: Settings, repeat: int, checks: int) -> Costs:
    paths = articles()
    models = ModelService(settings)
    try:
        async with httpx.AsyncClient() as http:
            core = ChatCore(settings, models, http)

            async def handle_ms(message: Incoming) -> float:
                started = time.perf_counter()
                await core.handle(message)
                return (time.perf_counter() - started) * 1000

            print("warm-up (loads the models)", file=sys.stderr, flush=True)
            await handle_ms(Incoming("test", "warm", "w", text=WARM_UP.read_text("utf-8")))
            briefs = [
                await handle_ms(Incoming("test", f"c{i}", "u", text=path.read_text("utf-8")))
                for i, path in enumerate(paths)
            ]
            print(f"{len(briefs)} briefs done", file=sys.stderr, flush=True)
            questions = [
                await handle_ms(
                    Incoming("test", f"c{i}", "u", text=f"{question.rstrip('?')} number {i}?")
                )
                for i in range(len(paths))
                for question in QUESTIONS
            ]
            helps = [
                await handle_ms(Incoming("test", "c0", "u", command="help")) for _ in range(repeat)
            ]
            quotes = [
                await handle_ms(Incoming("test", "c0", "u", command="quotes"))
                for _ in range(repeat)
            ]
    finally:
        models.close()
    return Costs(
        briefs,
        questions,
        quotes,
        helps,
        bucket_check_us(settings, checks),
        checks,
        [str(p.relative_to(p.parents[1])) for p in paths],
    )


def row(label: str, values: list[float]) -> str:
    return (
        f"| {label} | {len(values)} | {statistics.median(values):.2f} | "
        f"{percentile(values, 0.95):.2f} | {max(values):.2f} |"
    )


def report(costs: Costs, argv: list[str], loads: tuple[float, float]) -> str:
    command = "PYTHONPATH=. nice -n 10 " + shlex.join(
        [".venv/bin/python", "benchmarks/limits_cost.py", *argv]
    )
    question_p50 = statistics.median(costs.questions_ms)
    lines = [
        "# What each kind of chat request costs",
        "",
        f"- command: `{command}`",
        f"- machine: {machine()}, shared with other jobs: 1-minute load average "
        f"{loads[0]:.1f} at the start, {loads[1]:.1f} at the end",
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- articles: {', '.join(costs.articles)}; one request at a time through "
        "`ChatCore.handle`, real models, after a warm-up brief that loads them",
        "",
        "| request | n | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        row("new article brief (pasted text)", costs.briefs_ms),
        row("question on an analysed article", costs.questions_ms),
        row("/quotes", costs.quotes_ms),
        row("/help", costs.helps_ms),
        "",
        f"One rate-limit bucket check (`RateLimits.acquire`, mean of {costs.checks:,} "
        f"calls): {costs.check_us:.2f} µs.",
        "",
        f"A brief costs {statistics.median(costs.briefs_ms) / question_p50:.0f}× a question "
        "at the median.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.repeat < 1 or args.checks < 1:
        raise SystemExit("--repeat and --checks must be at least 1")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="newsbrief-limits-cost-") as scratch:
        cache = args.cache_dir or Path(os.environ.get("NEWSBRIEF_CACHE_DIR", Path(scratch)))
        settings = load_settings(
            cache_dir=cache,
            data_dir=Path(scratch),
            rate_user_burst=1000,
            rate_question_burst=1000,
        )
        costs = asyncio.run(measure(settings, args.repeat, args.checks))
    text = report(costs, argv, (load_before, os.getloadavg()[0]))
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
