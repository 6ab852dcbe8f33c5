"""How expensive is each kind of chat request? (decides what the buckets and queue cover)"""
import asyncio, statistics, tempfile, time, os
from pathlib import Path
import httpx
from bot.core import ChatCore, Incoming
from bot.core.limits import RateLimits
from config import load_settings
from summarizer.models import ModelService

ROOT = Path("/work/main")
ex = sorted((ROOT / "examples").glob("*.txt")) + sorted(Path("/work/shared/data/seed").glob("*.txt"))

async def main():
    settings = load_settings(cache_dir=Path(os.environ.get("NEWSBRIEF_CACHE_DIR", tempfile.mkdtemp())), data_dir=Path(tempfile.mkdtemp()),
                             rate_user_burst=1000, rate_question_burst=1000)
    models = ModelService(settings)
    async with httpx.AsyncClient() as http:
        core = ChatCore(settings, models, http)
        async def t(msg):
            s = time.perf_counter(); r = await core.handle(msg); return (time.perf_counter() - s) * 1000
        # warm-up: load models on a different chat
        await t(Incoming("test", "warm", "w", text=(ROOT / "examples/stadium-deal.html").read_text()))
        briefs = []
        for i, path in enumerate(ex):
            briefs.append(await t(Incoming("test", f"c{i}", "u", text=path.read_text())))
        qs = ["Who said what about the cost?", "When was the vote?", "What did the mayor say?", "quote him", "and what else did he say?"]
        questions = []
        for i in range(len(ex)):
            for q in qs:
                questions.append(await t(Incoming("test", f"c{i}", "u", text=f"{q[:-1]} number {i}?")))
        helps = [await t(Incoming("test", "c0", "u", command="help")) for _ in range(50)]
        quotes = [await t(Incoming("test", "c0", "u", command="quotes")) for _ in range(50)]
        limits = RateLimits(settings)
        m = Incoming("test", "c", "u", text="x")
        s = time.perf_counter()
        for _ in range(100000): limits.acquire(m, "question")
        check_us = (time.perf_counter() - s) / 100000 * 1e6
    models.close()
    p = lambda xs: f"p50 {statistics.median(xs):.1f} ms, max {max(xs):.1f} ms (n={len(xs)})"
    print("new article brief (pasted):", p(briefs))
    print("question on an analysed article:", p(questions))
    print("/quotes:", p(quotes))
    print("/help:", p(helps))
    print(f"bucket check: {check_us:.2f} µs")
    print("load average:", os.getloadavg())

asyncio.run(main())
