"""Helpers shared by the benchmark scripts (imported from the script's own folder)."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DEFAULT_DATA = ROOT.parent / "shared" / "data"
CNNDM_FILE = Path("cnndm") / "frank-cnndm-test.jsonl"
SYSTEMS = ("bart", "bert_sum", "pgn", "bottom_up", "seq2seq")


def load_cnndm(data: Path) -> list[dict[str, Any]]:
    path = data / CNNDM_FILE
    if not path.is_file():
        raise SystemExit(f"CNN/DM file not found: {path} (pass --data ../shared/data)")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def machine() -> str:
    """CPU model and core count, for the results header."""
    model = platform.processor() or "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --------------------------------------------------------------------------- ROUGE


def tokenised_lines(summary: str) -> list[str]:
    """Sentences of a PTB-tokenised summary (references and system outputs: " . " between)."""
    text = summary.replace("-LRB-", "(").replace("-RRB-", ")").strip()
    parts = [p.strip() for p in re.split(r"(?<= [.!?]) ", text) if p.strip()]
    return parts or [text]


class Rouge:
    """ROUGE-1/2/Lsum F1 (rouge-score, Porter stemmer); Lsum over newline-separated sentences."""

    KEYS = ("rouge1", "rouge2", "rougeLsum")

    def __init__(self) -> None:
        from rouge_score import rouge_scorer

        self._scorer = rouge_scorer.RougeScorer(list(self.KEYS), use_stemmer=True)

    def score(self, reference_lines: Sequence[str], prediction_lines: Sequence[str]) -> list[float]:
        scores = self._scorer.score("\n".join(reference_lines), "\n".join(prediction_lines))
        return [scores[key].fmeasure * 100 for key in self.KEYS]


def mean_scores(rows: Iterable[Sequence[float]]) -> list[float]:
    rows = list(rows)
    if not rows:
        return [float("nan")] * 3
    return [sum(row[i] for row in rows) / len(rows) for i in range(len(rows[0]))]


# --------------------------------------------------------------------------- unsupported facts

_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "hundred": 100, "thousand": 1000, "dozen": 12,
}  # fmt: skip


def _number(token: str) -> float | None:
    try:
        return float(token.replace(",", ""))
    except ValueError:
        return None


_TOKEN = re.compile(r"[^\W_]+(?:[.,'’-][^\W_]+)*\.?")


class FactIndex:
    """The words and numbers one article mentions, to count a summary's unsupported facts.

    A summary's facts are its names (capitalised tokens that do not open a sentence)
    and its numbers (digits); a fact is unsupported when the article never mentions it
    (names compared case-insensitively, numbers by value, "three" = 3).
    """

    def __init__(self, article: str) -> None:
        tokens = {t.lower().strip("'’.-") for t in re.findall(r"[\w'’.-]+", article)}
        self.words = tokens | {p for t in tokens for p in re.split(r"[.'’-]", t) if p}
        values = (_number(t) for t in re.findall(r"\d+(?:[.,]\d+)*", article))
        self.numbers = {v for v in values if v is not None}
        self.numbers |= {float(v) for w, v in _NUMBER_WORDS.items() if w in self.words}

    def count(self, sentences: Sequence[str]) -> tuple[int, int, list[str]]:
        """(facts, unsupported facts, the unsupported ones) in ``sentences``."""
        total, missing, examples = 0, 0, []
        for sentence in sentences:
            text = sentence.replace("-LRB-", " ").replace("-RRB-", " ")
            for position, match in enumerate(_TOKEN.finditer(text)):
                token = match.group(0)
                if re.fullmatch(r"\d+(?:[.,]\d+)*", token):
                    total += 1
                    if _number(token) not in self.numbers:
                        missing += 1
                        examples.append(token)
                elif token[0].isupper() and position > 0:
                    total += 1
                    key = token.lower().removesuffix("'s").removesuffix("’s").rstrip(".")
                    parts = [p for p in re.split(r"[.'’-]", key) if p]
                    if key not in self.words and not all(p in self.words for p in parts):
                        missing += 1
                        examples.append(token)
        return total, missing, examples
