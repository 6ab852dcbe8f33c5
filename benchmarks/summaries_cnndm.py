"""ROUGE and unsupported-facts rate of the summary methods on the FRANK CNN/DM articles.

Scores ``extractive`` on every article next to Lead-3 (computed in the same run) and
the five systems whose outputs ship with the file; ``abstractive`` (slow) runs on
``--abstractive-limit`` articles spread evenly over the file (rows 0, 10, 20, ...),
with the others reported on the same subset.
Results go to benchmarks/results/summaries_cnndm.md.

    .venv/bin/python benchmarks/summaries_cnndm.py [--data ../shared/data]
        [--abstractive-limit 25] [--limit N] [--no-write]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    DEFAULT_DATA,
    ROOT,
    SYSTEMS,
    FactIndex,
    Rouge,
    load_cnndm,
    machine,
    mean_scores,
    tokenised_lines,
)

from config import load_settings
from summarizer.models import ModelService
from summarizer.reading import build_article
from summarizer.summaries import sentence_spans, summarize_sync

RESULTS = ROOT / "benchmarks" / "results" / "summaries_cnndm.md"

#: Splits of the file by row: parameters were tuned on the odd rows only.
SPLITS = {
    "all": lambda i: True,
    "dev (odd rows, tuned on)": lambda i: i % 2 == 1,
    "held-out (even rows)": lambda i: i % 2 == 0,
}


class Tally:
    """ROUGE rows and fact counts of one system."""

    def __init__(self) -> None:
        self.rouge: dict[int, list[float]] = {}
        self.facts = 0
        self.unsupported = 0
        self.examples: list[str] = []

    def add(self, row: int, scores: list[float], counts: tuple[int, int, list[str]]) -> None:
        self.rouge[row] = scores
        self.facts += counts[0]
        self.unsupported += counts[1]
        self.examples.extend(counts[2][:2])

    def mean(self, rows: list[int]) -> list[float]:
        return mean_scores(self.rouge[i] for i in rows if i in self.rouge)

    @property
    def rate(self) -> float:
        return 100.0 * self.unsupported / self.facts if self.facts else 0.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared/data folder")
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles")
    parser.add_argument("--abstractive-limit", type=int, default=25, help="0 skips abstractive")
    parser.add_argument("--sentences", type=int, default=3, help="bullets per summary")
    parser.add_argument("--cache-dir", type=Path, default=None, help="converted-model cache")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="print, do not write results")
    return parser.parse_args(argv)


def fmt(scores: list[float]) -> str:
    return " | ".join(f"{value:.2f}" for value in scores)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    load_before = f"{os.getloadavg()[0]:.1f}"
    rows = load_cnndm(args.data)[: args.limit]
    overrides = {"cache_dir": args.cache_dir} if args.cache_dir else {}
    models = ModelService(load_settings(**overrides))
    rouge = Rouge()
    n = args.sentences
    names = ["Lead-3", "extractive", *SYSTEMS]
    tallies = {name: Tally() for name in names}
    extractive_ms: list[float] = []
    for i, row in enumerate(rows):
        article = build_article(row["article"])
        reference = tokenised_lines(row["reference"])
        facts = FactIndex(row["article"])
        lead = [article.text[s:e] for s, e in sentence_spans(article)[:n]]
        clock = time.perf_counter()
        summary = summarize_sync(article, models, method="extractive", sentences=n)
        extractive_ms.append((time.perf_counter() - clock) * 1000)
        outputs = {"Lead-3": lead, "extractive": [b.text for b in summary.bullets]}
        outputs |= {name: tokenised_lines(row["systems"][name]) for name in SYSTEMS}
        for name, lines in outputs.items():
            tallies[name].add(i, rouge.score(reference, lines), facts.count(lines))
        if (i + 1) % 25 == 0:
            print(f"extractive {i + 1}/{len(rows)}", file=sys.stderr, flush=True)
    extractive_s = time.perf_counter() - began

    # abstractive on a fixed subset ------------------------------------------------
    k = min(args.abstractive_limit, len(rows))
    step = max(1, len(rows) // k) if k else 1
    subset = list(range(0, len(rows), step))[:k]  # evenly spread: rows 0, 10, 20, ...
    abstractive, raw = Tally(), Tally()
    reasons: collections.Counter[str] = collections.Counter()
    generated_total = kept_total = bullets_total = 0
    abstractive_ms: list[float] = []
    if subset:
        models.generator()  # load (or convert) once, outside the per-article times
    for done, i in enumerate(subset, 1):
        row = rows[i]
        article = build_article(row["article"])
        reference = tokenised_lines(row["reference"])
        facts = FactIndex(row["article"])
        clock = time.perf_counter()
        summary = summarize_sync(article, models, method="abstractive", sentences=n)
        abstractive_ms.append((time.perf_counter() - clock) * 1000)
        lines = [b.text for b in summary.bullets]
        abstractive.add(i, rouge.score(reference, lines), facts.count(lines))
        generated = list(summary.generated) or [""]
        raw.add(i, rouge.score(reference, generated), facts.count(generated))
        generated_total += len(summary.generated)
        kept_total += len(summary.kept)
        bullets_total += len(summary.bullets)
        reasons.update(d.reason for d in summary.dropped)
        print(f"abstractive {done}/{k}", file=sys.stderr, flush=True)
    total_s = time.perf_counter() - began

    # report -------------------------------------------------------------------------
    command = " ".join([".venv/bin/python", "benchmarks/summaries_cnndm.py", *sys.argv[1:]])
    lines_out = [
        "# Summaries on CNN/DM (FRANK test subset)",
        "",
        f"- command: `{command}`",
        f"- machine: {machine()} (shared with other jobs: load average {load_before} at "
        f"the start, {os.getloadavg()[0]:.1f} at the end)",
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; "
        f"{len(rows)} articles; {n} bullets; extractive part {extractive_s:.0f} s, "
        f"total {total_s:.0f} s",
        "- ROUGE: rouge-score F1 with the Porter stemmer; Lsum over one sentence a line "
        '(references split at their " . " tokens). Unsupported = share of the summary\'s '
        "names (capitalised tokens not opening a sentence) and numbers that the article "
        "never mentions.",
        "",
    ]
    for split, keep in SPLITS.items():
        split_rows = [i for i in range(len(rows)) if keep(i)]
        lines_out += [
            f"## {split}: {len(split_rows)} articles",
            "",
            "| system | ROUGE-1 | ROUGE-2 | ROUGE-Lsum |"
            + (" unsupported facts |" if split == "all" else ""),
            "|---|---:|---:|---:|" + ("---:|" if split == "all" else ""),
        ]
        for name in names:
            tally = tallies[name]
            cells = f"| {name} | {fmt(tally.mean(split_rows))} |"
            if split == "all":
                cells += f" {tally.rate:.1f}% ({tally.unsupported}/{tally.facts}) |"
            lines_out.append(cells)
        lines_out.append("")
    if k:
        lines_out += [
            f"## abstractive subset: {k} articles (every {step}th row from row 0)",
            "",
            "| system | ROUGE-1 | ROUGE-2 | ROUGE-Lsum | unsupported facts |",
            "|---|---:|---:|---:|---:|",
        ]
        sub = [
            ("abstractive (guarded, shown)", abstractive),
            ("abstractive raw model output (before the guard)", raw),
        ]
        for label, tally in sub:
            lines_out.append(
                f"| {label} | {fmt(tally.mean(subset))} | "
                f"{tally.rate:.1f}% ({tally.unsupported}/{tally.facts}) |"
            )
        for name in ("extractive", "Lead-3", "bart"):
            tally = tallies[name]
            sub_facts = [tally.rouge[i] for i in subset]
            lines_out.append(f"| {name} | {fmt(mean_scores(sub_facts))} | (see above) |")
        mean_s = sum(abstractive_ms) / len(abstractive_ms) / 1000
        reason_text = ", ".join(f"{r} {c}" for r, c in reasons.most_common()) or "none"
        lines_out += [
            "",
            f"Guard: the model wrote {generated_total} sentences; {kept_total} passed and "
            f"were shown ({bullets_total - kept_total} of {bullets_total} bullets are "
            f"extractive replacements); dropped: {reason_text}. "
            f"Mean {mean_s:.1f} s per article.",
            "",
        ]
    ext_sorted = sorted(extractive_ms)
    lines_out.append(
        f"Extractive time per article in this run (embedding included, cold cache): "
        f"p50 {ext_sorted[len(ext_sorted) // 2]:.0f} ms."
    )
    report = "\n".join(lines_out) + "\n"
    print(report)
    if not args.no_write:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    models.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
