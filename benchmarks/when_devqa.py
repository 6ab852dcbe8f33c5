"""Dates of statements on the dev set's `when` rows (shared/data/qa/dev-qa.jsonl).

Three numbers per run, so a change to summarizer/dates.py can be judged on real text:
- resolve: ``resolve(time_phrase, published, context=<its sentence>)`` equals the gold date;
- found: ``find_time_expressions`` finds an expression overlapping the gold phrase;
- attached: ``statement_time`` on the phrase's sentence gives the gold date (the
  harder job: it must pick the expression that dates the speaking, unaided);
and the time of ``time_refs`` per article.

    .venv/bin/python benchmarks/when_devqa.py [--data ../shared/data] [--failures]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from summarizer.dates import (  # noqa: E402
    find_time_expressions,
    resolve,
    statement_time,
    time_refs,
)
from summarizer.reading import build_article  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--failures", action="store_true", help="print every miss")
    args = parser.parse_args(argv)

    rows = [
        row
        for line in (args.data / "qa" / "dev-qa.jsonl").read_text(encoding="utf-8").splitlines()
        if (row := json.loads(line))["type"] == "when"
    ]
    counts = {"resolve": 0, "found": 0, "attached": 0}
    timings: list[float] = []
    for row in rows:
        gold = row["gold"]
        phrase = gold["time_phrase"]
        expected = date.fromisoformat(gold["date"])
        published = date.fromisoformat(row["published"])
        path = args.data / "polnear" / "dev" / "text" / f"{row['doc']}.txt"
        article = build_article(path.read_text(encoding="utf-8"), published=published)
        at = article.text.index(phrase)
        sentence = article.sentence_at(at)
        assert sentence is not None
        started = time.perf_counter()
        time_refs(article)
        timings.append(time.perf_counter() - started)

        got = resolve(phrase, published, context=sentence.text)
        found = any(s < at + len(phrase) and at < e for s, e in find_time_expressions(article.text))
        attached = statement_time(article, sentence.index)
        results = {
            "resolve": got == expected,
            "found": found,
            "attached": attached is not None and attached.date == expected,
        }
        for key, ok in results.items():
            counts[key] += ok
        if args.failures and not all(results.values()):
            shown = None if attached is None else (attached.text, attached.date)
            print(f"{row['id']}: {phrase!r} gold {expected} resolve {got} attached {shown}")

    for key, value in counts.items():
        print(f"{key:9} {value}/{len(rows)}")
    print(f"time_refs per article: max {1000 * max(timings):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
