"""End-to-end chat latency through the fake Telegram Bot API: 20 chats at once.

Each chat sends a different article (CNN/DM articles from ../shared/data when present,
else the invented examples with a chat-specific line), then a follow-up question. The
time from pushing the update to the bot's sendMessage arriving at the fake server is
measured per chat: brief and question, p50/p95, real models, polling mode.

    PYTHONPATH=. .venv/bin/python benchmarks/chat_latency.py [--chats 20] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from _common import percentile
from pydantic import SecretStr

from bot.core import ChatCore
from bot.telegram import run_telegram
from config import load_settings
from summarizer.models import ModelService
from tests.fakes.telegram_api import FakeTelegram, serve_fake_telegram

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NEWSBRIEF_SHARED_DATA", ROOT.parent / "shared" / "data"))
QUESTION = "Who said what about it, and when?"


def articles(count: int) -> list[str]:
    frank = DATA / "cnndm" / "frank-cnndm-test.jsonl"
    if frank.is_file():
        rows = [json.loads(line) for line in frank.read_text("utf-8").splitlines()[: count + 1]]
        return [row["article"] for row in rows[1 : count + 1]]
    samples = [p.read_text("utf-8") for p in sorted((ROOT / "examples").glob("*.txt"))]
    return [f"{samples[i % len(samples)]}\nEditor's note {i}: updated." for i in range(count)]


async def arrival(fake: FakeTelegram, chat_id: int, count: int, started: float) -> float:
    await fake.wait_for_messages(chat_id, count, timeout=900)
    return (time.perf_counter() - started) * 1000


async def round_trip(fake: FakeTelegram, texts: dict[int, str], already: int) -> list[float]:
    """Push one message per chat at once; ms until each chat's next reply arrives."""
    started = time.perf_counter()
    for chat_id, text in texts.items():
        fake.push_text(chat_id, text)
    return list(
        await asyncio.gather(*(arrival(fake, chat_id, already + 1, started) for chat_id in texts))
    )


async def main(chats: int) -> dict[str, object]:
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    cache = Path(os.environ.get("NEWSBRIEF_CACHE_DIR", tempfile.mkdtemp()))
    async with serve_fake_telegram() as fake:
        fake.max_poll_s = 0.2
        settings = load_settings(
            cache_dir=cache,
            data_dir=Path(tempfile.mkdtemp()),
            telegram_bot_token=SecretStr(fake.token),
            telegram_api_url=fake.api_url,
        )
        models = ModelService(settings)
        stop = asyncio.Event()
        async with httpx.AsyncClient(timeout=10) as http:
            core = ChatCore(settings, models, http)
            bot = asyncio.create_task(run_telegram(settings, core, stop=stop, poll_timeout=1))
            texts = articles(chats + 1)
            warm = await round_trip(fake, {1: texts[0]}, 0)  # loads the models
            await round_trip(fake, {1: QUESTION}, 1)
            chat_ids = list(range(100, 100 + chats))
            briefs = await round_trip(fake, dict(zip(chat_ids, texts[1:], strict=True)), 0)
            questions = await round_trip(fake, dict.fromkeys(chat_ids, QUESTION), 1)
            stop.set()
            await asyncio.wait_for(bot, 30)
        models.close()
    return {
        "chats": chats,
        "first brief incl. model load ms": round(warm[0]),
        "brief p50 ms": round(statistics.median(briefs)),
        "brief p95 ms": round(percentile(briefs, 0.95)),
        "question p50 ms": round(statistics.median(questions)),
        "question p95 ms": round(percentile(questions, 0.95)),
        "load average": os.getloadavg()[0],
    }


def report(result: dict[str, object]) -> str:
    lines = [
        "# Chat latency through the fake Telegram Bot API",
        "",
        "Command: `PYTHONPATH=. .venv/bin/python benchmarks/chat_latency.py`",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; "
        f"1-minute load average at the end {result['load average']:.1f}.",
        "",
        f"{result['chats']} chats send an article at the same moment, then a question each;"
        " time from the update entering the fake server to the bot's reply arriving there.",
        "",
        "| step | p50 ms | p95 ms |",
        "|---|---:|---:|",
        f"| brief (article → summary + who said what) | {result['brief p50 ms']} | "
        f"{result['brief p95 ms']} |",
        f"| follow-up question | {result['question p50 ms']} | {result['question p95 ms']} |",
        "",
        "First brief of the process, models loading: "
        f"{result['first brief incl. model load ms']} ms.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/chat_latency.md")
    args = parser.parse_args()
    outcome = asyncio.run(main(args.chats))
    text = report(outcome)
    print(text)
    args.out.write_text(text, "utf-8")
