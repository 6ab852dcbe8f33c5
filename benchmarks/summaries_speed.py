"""Latency, cold start and memory of the summary methods on CNN/DM articles.

Cold start = importing the model code and loading each model (the generative one from
its converted-weights cache when present). Latency = one ``summarize_sync`` call per
article after a warm-up article (embeddings are computed, not cached, for each new
article). Results go to benchmarks/results/summaries_speed.md.

    .venv/bin/python benchmarks/summaries_speed.py [--data ../shared/data]
        [--extractive 50] [--abstractive 5] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA, ROOT, load_cnndm, machine

RESULTS = ROOT / "benchmarks" / "results" / "summaries_speed.md"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared/data folder")
    parser.add_argument("--extractive", type=int, default=50, help="articles for extractive")
    parser.add_argument("--abstractive", type=int, default=5, help="articles for abstractive")
    parser.add_argument("--cache-dir", type=Path, default=None, help="converted-model cache")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="print, do not write results")
    return parser.parse_args(argv)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = f"{os.getloadavg()[0]:.1f}"
    clock = time.perf_counter()
    import torch  # noqa: F401  (what the first model load would import anyway)

    from config import load_settings
    from summarizer.models import ModelService, _gguf_cache_folder, locate_model
    from summarizer.reading import build_article
    from summarizer.summaries import summarize_sync

    import_s = time.perf_counter() - clock
    rows = load_cnndm(args.data)
    overrides = {"cache_dir": args.cache_dir} if args.cache_dir else {}
    settings = load_settings(**overrides)
    models = ModelService(settings)

    clock = time.perf_counter()
    models.embedder()
    embed_load_s = time.perf_counter() - clock
    rss_after_embedder = peak_rss_mb()

    generator_note = ""
    generator_load_s = float("nan")
    if args.abstractive:
        location = locate_model(settings.summarizer_model, settings.summarizer_gguf_file)
        cached = (
            location.gguf_file is not None
            and (_gguf_cache_folder(location, settings.cache_dir) / "config.json").is_file()
        )
        generator_note = "from the converted cache" if cached else "converting the GGUF (first run)"
        clock = time.perf_counter()
        models.generator()
        generator_load_s = time.perf_counter() - clock

    articles = [build_article(row["article"]) for row in rows]
    warm = articles[-1]
    summarize_sync(warm, models, method="extractive")  # warm-up (torch kernels, caches)
    extractive_ms: list[float] = []
    extractive_cpu_ms: list[float] = []
    cached_ms: list[float] = []
    for article in articles[: args.extractive]:
        clock, cpu = time.perf_counter(), time.process_time()
        summarize_sync(article, models, method="extractive")
        extractive_ms.append((time.perf_counter() - clock) * 1000)
        extractive_cpu_ms.append((time.process_time() - cpu) * 1000)
        clock = time.perf_counter()
        summarize_sync(article, models, method="extractive")  # embeddings cached now
        cached_ms.append((time.perf_counter() - clock) * 1000)
    words = [len(a.text.split()) for a in articles[: args.extractive]]

    abstractive_ms: list[float] = []
    abstractive_cpu_ms: list[float] = []
    generate_ms: list[float] = []
    if args.abstractive:
        summarize_sync(warm, models, method="abstractive")  # warm-up
        for article in articles[: args.abstractive]:
            clock, cpu = time.perf_counter(), time.process_time()
            summary = summarize_sync(article, models, method="abstractive")
            abstractive_ms.append((time.perf_counter() - clock) * 1000)
            abstractive_cpu_ms.append((time.process_time() - cpu) * 1000)
            generate_ms.append(summary.timings_ms.get("generate", 0.0))
            print(f"abstractive {len(abstractive_ms)}/{args.abstractive}", file=sys.stderr)

    def row(label: str, values: list[float]) -> str:
        if not values:
            return f"| {label} | 0 | – | – | – |"
        return (
            f"| {label} | {len(values)} | {percentile(values, 0.5):.0f} | "
            f"{percentile(values, 0.95):.0f} | {max(values):.0f} |"
        )

    command = " ".join([".venv/bin/python", "benchmarks/summaries_speed.py", *sys.argv[1:]])
    lines = [
        "# Summary speed",
        "",
        f"- command: `{command}`",
        f"- machine: {machine()} (shared with other jobs: load average {load_before} at "
        f"the start, {os.getloadavg()[0]:.1f} at the end)",
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; CNN/DM articles "
        f"(median {statistics.median(words):.0f} words); torch threads: "
        f"{settings.torch_threads or 'default'}",
        "",
        "## Per-article latency after warm-up (ms)",
        "",
        "Wall-clock time per `summarize_sync` call; CPU time is the process's CPU time "
        "summed over torch's threads (less sensitive to other jobs on the machine).",
        "",
        "| method | articles | p50 | p95 | max |",
        "|---|---:|---:|---:|---:|",
        row("extractive (embeds every sentence)", extractive_ms),
        row("  its CPU time (all threads)", extractive_cpu_ms),
        row("extractive, same article again (embeddings cached)", cached_ms),
        row("abstractive (generate + guard)", abstractive_ms),
        row("  its CPU time (all threads)", abstractive_cpu_ms),
        row("  of which generation (wall)", generate_ms),
        "",
        "## Cold start",
        "",
        "| step | seconds |",
        "|---|---:|",
        f"| import the package and model code | {import_s:.1f} |",
        f"| load the embedding model (MiniLM) | {embed_load_s:.1f} |",
        f"| load the generative model ({generator_note or 'not loaded'}) | "
        f"{generator_load_s:.1f} |",
        "",
        "## Memory",
        "",
        f"- peak RSS after loading the embedding model: {rss_after_embedder:.0f} MB",
        f"- peak RSS at the end (both models loaded): {peak_rss_mb():.0f} MB",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    models.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
