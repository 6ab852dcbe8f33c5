"""Who-said-what-when questions: the dev set (shared/data/qa/dev-qa.jsonl), scored per its README.

Runs all rows through :func:`summarizer.answers.answer_question_sync` (the two turns of
a conversation share one ConversationState; every other row gets a fresh one) and,
side by side, a simple baseline: the single most similar sentence by embedding, with
the capitalised name nearest a speech verb in it as the speaker. Prints and writes
accuracy overall and per type (negatives separately) and the per-question latency.

    .venv/bin/python benchmarks/qa_devqa.py [--data ../shared/data] [--failures] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from config import load_settings  # noqa: E402
from summarizer.analysis import Analysis, analyse_sync  # noqa: E402
from summarizer.answers import (  # noqa: E402
    Answer,
    ConversationState,
    Evidence,
    answer_question_sync,
)
from summarizer.models import ModelService  # noqa: E402
from summarizer.reading import Article, build_article  # noqa: E402

TYPES = ("who", "what", "quote", "when", "negative")

# --------------------------------------------------------------------------- scoring (README)


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_MARKS = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "\u00a0": " "})
_HONORIFICS = _wordset(
    "mr mrs ms miss dr sen senator rep gov governor president former the rev gen general "
    "mayor judge sir lady prof"
)


def norm(text: str | None) -> str:
    """Quote marks unified, whitespace (incl. non-breaking) collapsed, lower case."""
    return re.sub(r"\s+", " ", (text or "").translate(_MARKS)).strip().lower()


def _name_tokens(text: str) -> list[str]:
    return [
        t.strip(".")
        for t in re.findall(r"[\w.'-]+", norm(text))
        if t.strip(".") and t.strip(".") not in _HONORIFICS
    ]


def speaker_matches(named: str | None, gold: dict[str, Any]) -> bool:
    """README: the named speaker is ``speaker`` or an alias; a surname-only alias counts
    only when the answer names no other first name ("Bill Clinton" ≠ Hillary's "Clinton")."""
    if not named:
        return False
    n = norm(named)
    forms = [gold["speaker"], *gold.get("aliases", [])]
    full_forms = [norm(f) for f in forms if len(_name_tokens(f)) >= 2 or len(f.split()) >= 2]
    if any(n == norm(f) for f in forms):
        return True
    if any(f and (f == n or (f" {f}" in f" {n}" and n.endswith(f))) for f in full_forms):
        return True  # "NYPD Commissioner James O'Neill" names "James O'Neill"
    named_tokens = _name_tokens(named)
    gold_tokens = {t for f in forms for t in _name_tokens(f)}
    for alias in forms:
        alias_tokens = _name_tokens(alias)
        if len(alias_tokens) != 1:
            continue
        if named_tokens and named_tokens[-1] == alias_tokens[0]:
            others = set(named_tokens[:-1])
            if others <= gold_tokens:
                return True
    return False


_ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def score(row: dict[str, Any], answer: Answer) -> tuple[int, int]:
    """(score, strict score): strict also needs the right speaker for what/quote rows."""
    gold = row["gold"]
    kind = row["type"]
    if kind == "negative":
        ok = not answer.found and answer.quote is None and answer.when is None
        return int(ok), int(ok)
    if not answer.found:
        return 0, 0
    if kind == "who":
        ok = speaker_matches(answer.speaker, gold)
        return int(ok), int(ok)
    if kind in ("what", "quote"):
        texts = (norm(answer.answer), norm(answer.quote))
        ok = any(norm(s) in t for s in gold["snippets"] for t in texts)
        return int(ok), int(ok and speaker_matches(answer.speaker, gold))
    if kind == "when":
        found = _ISO.findall(answer.answer)
        iso = found[0] if found else None
        if iso is None and answer.when is not None and answer.when.date is not None:
            iso = answer.when.date.isoformat()
        ok = iso == gold["date"]
        return int(ok), int(ok)
    raise ValueError(f"unknown type {kind}")


# --------------------------------------------------------------------------- baseline

_SPEECH = re.compile(r"\b(?:said|says|told|tells|added|according to|wrote|tweeted|asked)\b")
_NAME = re.compile(r"(?:[A-Z][\w’'.-]+)(?:\s+(?:[A-Z][\w’'.-]+|de|van|von))*")
_NOT_NAMES = _wordset(
    "The A An He She It I We They But And In On At This That There His Her Their "
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
)


def baseline_answer(row: dict[str, Any], analysis: Analysis, models: ModelService) -> Answer:
    """The most similar sentence; the capitalised name nearest a speech verb as speaker."""
    import numpy as np

    article = analysis.article
    vector = models.embed_sync([row["question"]])[0]
    index = int(np.argmax(analysis.sentence_vectors @ vector))
    sentence = article.sentences[index]
    names = [m for m in _NAME.finditer(sentence.text) if m.group(0).split()[0] not in _NOT_NAMES]
    speaker = None
    if names:
        cues = [m.start() for m in _SPEECH.finditer(sentence.text)]
        if cues:
            speaker = min(names, key=lambda m: min(abs(m.start() - c) for c in cues)).group(0)
        else:
            speaker = names[0].group(0)
    when = None
    for ref in analysis.time_refs:
        if ref.span and sentence.start <= ref.span[0] < sentence.end and ref.date:
            when = ref
            break
    text = sentence.text + (f" ({when.date.isoformat()})" if when and when.date else "")
    return Answer(
        found=True,
        answer=text,
        speaker=speaker,
        quote=sentence.text,
        when=when,
        evidence=(Evidence(sentence.text, (sentence.start, sentence.end)),),
    )


# --------------------------------------------------------------------------- running


@dataclass
class Result:
    row: dict[str, Any]
    answer: Answer
    score: int
    strict: int
    seconds: float


def load_rows(data: Path) -> list[dict[str, Any]]:
    with (data / "qa" / "dev-qa.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_articles(data: Path, rows: list[dict[str, Any]]) -> dict[str, Article]:
    cnndm: dict[str, str] = {}
    wanted = {r["doc"] for r in rows if r["corpus"] == "cnndm"}
    with (data / "cnndm" / "frank-cnndm-test.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            if item["id"] in wanted:
                cnndm[item["id"]] = item["article"]
    articles: dict[str, Article] = {}
    for row in rows:
        if row["doc"] in articles:
            continue
        if row["corpus"] == "polnear-dev":
            text = (data / "polnear" / "dev" / "text" / f"{row['doc']}.txt").read_text("utf-8")
        else:
            text = cnndm[row["doc"]]
        published = date.fromisoformat(row["published"]) if row["published"] else None
        articles[row["doc"]] = build_article(text, published=published, article_id=row["doc"])
    return articles


def run(
    rows: list[dict[str, Any]],
    analyses: dict[str, Analysis],
    models: ModelService,
    answer: Callable[[dict[str, Any], ConversationState], Answer],
) -> list[Result]:
    results: list[Result] = []
    states: dict[str, ConversationState] = {}
    for row in rows:
        analysis = analyses[row["doc"]]
        conversation = row.get("conversation")
        if conversation:
            state = states.setdefault(conversation, ConversationState.for_analysis(analysis))
        else:
            state = ConversationState.for_analysis(analysis)
        start = time.perf_counter()
        got = answer(row, state)
        seconds = time.perf_counter() - start
        s, strict = score(row, got)
        results.append(Result(row, got, s, strict, seconds))
    return results


def table(ours: list[Result], base: list[Result]) -> str:
    def acc(results: list[Result], kinds: tuple[str, ...], strict: bool = False) -> str:
        chosen = [r for r in results if r.row["type"] in kinds]
        if not chosen:
            return "–"
        hits = sum(r.strict if strict else r.score for r in chosen)
        return f"{hits}/{len(chosen)} ({100 * hits / len(chosen):.1f}%)"

    lines = [
        "| type | rows | NewsBrief | NewsBrief strict¹ | baseline² |",
        "|---|---|---|---|---|",
    ]
    for kind in TYPES:
        n = sum(1 for r in ours if r.row["type"] == kind)
        lines.append(
            f"| {kind} | {n} | {acc(ours, (kind,))} | {acc(ours, (kind,), True)} "
            f"| {acc(base, (kind,))} |"
        )
    positive = tuple(t for t in TYPES if t != "negative")
    n_pos = sum(1 for r in ours if r.row["type"] in positive)
    lines.append(
        f"| **answerable (all but negative)** | {n_pos} | {acc(ours, positive)} "
        f"| {acc(ours, positive, True)} | {acc(base, positive)} |"
    )
    lines.append(
        f"| **overall** | {len(ours)} | {acc(ours, TYPES)} | {acc(ours, TYPES, True)} "
        f"| {acc(base, TYPES)} |"
    )
    return "\n".join(lines)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--failures", action="store_true", help="print every failed row")
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "qa_devqa.md")
    args = parser.parse_args(argv)

    rows = load_rows(args.data)
    articles = load_articles(args.data, rows)
    models = ModelService(load_settings())
    t0 = time.perf_counter()
    models.embed_sync(["warm-up: load the embedding model"])
    load_seconds = time.perf_counter() - t0

    analyses: dict[str, Analysis] = {}
    analysis_seconds: list[float] = []
    for doc, article in articles.items():
        start = time.perf_counter()
        analyses[doc] = analyse_sync(article, models)
        analysis_seconds.append(time.perf_counter() - start)

    # warm-up: one question per article on a throwaway state (code paths, caches of numpy)
    for analysis in analyses.values():
        answer_question_sync("What did he say?", ConversationState.for_analysis(analysis), models)

    def ask(row: dict[str, Any], state: ConversationState) -> Answer:
        return answer_question_sync(row["question"], state, models)

    def ask_baseline(row: dict[str, Any], state: ConversationState) -> Answer:
        return baseline_answer(row, analyses[row["doc"]], models)

    load_before = os.getloadavg()[0]
    ours = run(rows, analyses, models, ask)
    # the same questions again: their embeddings are cached now, so this is the answering
    # logic alone (parsing, ranking, composing) without the one MiniLM call per question
    logic = run(rows, analyses, models, ask)
    base = run(rows, analyses, models, ask_baseline)
    load_after = os.getloadavg()[0]

    latencies = [r.seconds * 1000 for r in ours]
    logic_lat = [r.seconds * 1000 for r in logic]
    base_lat = [r.seconds * 1000 for r in base]
    report = [
        "# Dev QA (shared/data/qa/dev-qa.jsonl, 123 questions)",
        "",
        "Scored per `qa/README.md`: who = speaker or alias (surname-only alias only without "
        "another first name); what/quote = a gold snippet inside the answer text or the "
        "returned quote (quote marks unified, whitespace collapsed, case ignored) and the "
        "answer must be `found`; "
        "when = the first ISO date in the answer; negative = `found` false with no quote or date.",
        "",
        table(ours, base),
        "",
        "¹ strict: what/quote rows also need the right speaker.  "
        "² baseline: the single most similar sentence by MiniLM cosine to the question, the "
        "capitalised name nearest a speech verb in it as speaker, the first dated time "
        'expression in it as when; it never says "not found".',
        "",
        f"Latency per question after warm-up (analysis cached): NewsBrief p50 "
        f"{percentile(latencies, 0.5):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms, "
        f"max {max(latencies):.1f} ms; baseline p50 {percentile(base_lat, 0.5):.1f} ms. "
        f"Answering logic alone (question embedding cached): p50 "
        f"{percentile(logic_lat, 0.5):.1f} ms, p95 {percentile(logic_lat, 0.95):.1f} ms.",
        f"One-time analysis per article ({len(analyses)} articles: speakers, quotes, dates, "
        f"embeddings): median {statistics.median(analysis_seconds) * 1000:.0f} ms, max "
        f"{max(analysis_seconds) * 1000:.0f} ms; embedding model load {load_seconds:.1f} s.",
        f"Machine: 2 CPU cores shared with other jobs (1-min load average {load_before:.1f} "
        f"before, {load_after:.1f} after the timed runs), no GPU.",
    ]
    text = "\n".join(report)
    print(text)
    if args.failures:
        print("\n## Failures\n")
        for r in ours:
            if r.score:
                continue
            gold = r.row["gold"]
            print(f"{r.row['id']} [{r.row['type']}] {r.row['question']}")
            print(f"   gold: {json.dumps(gold, ensure_ascii=False)}")
            print(
                f"   got : found={r.answer.found} speaker={r.answer.speaker!r} "
                f"when={r.answer.when.to_json() if r.answer.when else None}"
            )
            print(f"         {r.answer.answer[:300]}")
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
