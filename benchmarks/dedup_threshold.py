"""Tune the near-duplicate threshold (``dedup_threshold``) on real news, not hand-made pairs.

What ingest compares is the MiniLM vector of a story's *lead* (``bot.stories._lead``:
title plus the first two substantial sentences). Pairs are built the same way:

* CNN/DailyMail (FRANK's 250 test articles): the article's lead against the lead of
  each rewrite of the same story — the human reference and four systems' summaries
  (``seq2seq`` is left out: its repeated UNK text is no rewrite anyone publishes) —
  are positives; leads of different articles are negatives. Articles are split in
  two halves by id: one to tune on, one held out.
* PolNeAR (the 2016 US election, seven publishers): leads of different articles on
  the same campaign weeks are hard negatives — related stories that must stay apart.
  Tuned on ``train`` + ``dev``, held out on ``test``.

Every pair of leads is scored (what a story meets in the 48-hour window), so
precision counts every false merge among ~10^5–10^6 related-but-different pairs.

    PYTHONPATH=. .venv/bin/python benchmarks/dedup_threshold.py \
        --out benchmarks/results/digest_dedup_threshold.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.stories import _lead
from config import load_settings
from summarizer.models import ModelService
from summarizer.reading import ReadError, build_article

CURRENT = 0.78
CANDIDATES = [round(0.60 + 0.02 * i, 2) for i in range(18)]
REWRITES = ("bart", "bert_sum", "pgn", "bottom_up")


def detokenize(text: str) -> str:
    """CNN/DM summaries are PTB-tokenised (`` it 's . ``); undo the obvious spacing."""
    text = text.replace("``", '"').replace("''", '"').replace("-lrb-", "(").replace("-rrb-", ")")
    text = re.sub(r"\s+([.,;:!?%)]|'s|n't|'re|'ve|'ll|'d|'m)", r"\1", text)
    text = re.sub(r"([($])\s+", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def lead_of(text: str, title: str = "") -> str | None:
    try:
        article = build_article(text, title=title or None)
    except ReadError:
        return None
    return _lead(article, title)


@dataclass
class Pairs:
    """Leads with a story label; same label = duplicate."""

    leads: list[str]
    labels: list[int]
    anchor: list[bool]  # original article leads; positives need one (article vs rewrite)


def cnndm(path: Path, half: int) -> Pairs:
    pairs = Pairs([], [], [])
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if int(hashlib.sha1(row["id"].encode()).hexdigest(), 16) % 2 != half:
            continue
        label = len(set(pairs.labels))
        texts = [(row["article"], True), (detokenize(row["reference"]), False)]
        texts += [(detokenize(row["systems"][k]), False) for k in REWRITES if k in row["systems"]]
        for text, anchor in texts:
            lead = lead_of(text)
            if lead:
                pairs.leads.append(lead)
                pairs.labels.append(label)
                pairs.anchor.append(anchor)
    return pairs


def polnear(root: Path, splits: list[str]) -> Pairs:
    titles: dict[str, str] = {}
    rows = (root / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    header = rows[0].split("\t")
    for row in rows[1:]:
        cells = dict(zip(header, row.split("\t"), strict=False))
        titles[cells["filename"]] = cells.get("title", "")
    pairs = Pairs([], [], [])
    for split in splits:
        for file in sorted((root / split / "text").glob("*.txt")):
            lead = lead_of(file.read_text(encoding="utf-8"), titles.get(file.stem, ""))
            if lead:
                pairs.leads.append(lead)
                pairs.labels.append(1_000_000 + len(pairs.labels))  # every article its own story
                pairs.anchor.append(True)
    return pairs


def scores(models: ModelService, pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """Cosine of every pair of leads: positive scores, negative scores."""
    vectors = models.embed_sync(pairs.leads)
    sims = vectors @ vectors.T
    labels = np.array(pairs.labels)
    anchor = np.array(pairs.anchor)
    upper = np.triu(np.ones_like(sims, dtype=bool), k=1)
    same = labels[:, None] == labels[None, :]
    one_anchor = anchor[:, None] | anchor[None, :]
    return sims[upper & same & one_anchor], sims[upper & ~same]


def table(name: str, pos: np.ndarray, neg: np.ndarray, thresholds: list[float]) -> list[str]:
    lines = [
        f"**{name}** — {len(pos)} duplicate pairs, {len(neg):,} different-story pairs",
        "",
        "| threshold | precision | recall | F1 | false merges | missed |",
        "|---|---|---|---|---|---|",
    ]
    for t in thresholds:
        p, r, f, fp, fn = prf(pos, neg, t)
        mark = " (current)" if t == CURRENT else ""
        lines.append(f"| {t:.2f}{mark} | {p:.3f} | {r:.3f} | {f:.3f} | {fp} | {fn} |")
    return [*lines, ""]


def prf(pos: np.ndarray, neg: np.ndarray, t: float) -> tuple[float, float, float, int, int]:
    tp = int((pos >= t).sum())
    fp = int((neg >= t).sum())
    fn = len(pos) - tp
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / len(pos) if len(pos) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, fp, fn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    args = parser.parse_args()
    started = time.perf_counter()
    models = ModelService(load_settings())
    try:
        cnn = args.data / "cnndm" / "frank-cnndm-test.jsonl"
        tune_pos, tune_cnn_neg = scores(models, cnndm(cnn, 0))
        _, tune_pol_neg = scores(models, polnear(args.data / "polnear", ["train", "dev"]))
        test_pos, test_cnn_neg = scores(models, cnndm(cnn, 1))
        _, test_pol_neg = scores(models, polnear(args.data / "polnear", ["test"]))
    finally:
        models.close()
    tune_neg = np.concatenate([tune_cnn_neg, tune_pol_neg])
    test_neg = np.concatenate([test_cnn_neg, test_pol_neg])
    best = max(CANDIDATES, key=lambda t: (round(prf(tune_pos, tune_neg, t)[2], 4), t))
    shown = sorted({*CANDIDATES, CURRENT})
    lines = [
        "# dedup_threshold — MiniLM lead cosine, tuned on real news",
        "",
        "    PYTHONPATH=. .venv/bin/python benchmarks/dedup_threshold.py",
        "",
        "Tuning half: CNN/DM (half the articles by id) + PolNeAR train/dev negatives.",
        "",
        *table("tune", tune_pos, tune_neg, shown),
        f"Highest tuning F1 at **{best:.2f}** (current default {CURRENT}).",
        "",
        "Held out: the other CNN/DM half + PolNeAR test negatives.",
        "",
        *table("held out", test_pos, test_neg, sorted({best, CURRENT})),
        f"Score ranges, held out: duplicates median {np.median(test_pos):.2f} "
        f"(5th percentile {np.percentile(test_pos, 5):.2f}); different stories 99.99th "
        f"percentile {np.percentile(test_neg, 99.99):.2f}, max {test_neg.max():.2f}.",
        "",
        f"({time.perf_counter() - started:.0f} s)",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
