"""The command-line contract that tools, benchmarks and users rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "harbour-bridge-vote.txt"


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "SLACK_", "NEWSBRIEF_TELEGRAM", "NEWSBRIEF_SLACK"))
    }
    env["HF_HUB_OFFLINE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


def _article_text(path: Path) -> str:
    return path.read_text("utf-8")


def test_brief_json_has_the_contract_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["brief", str(SAMPLE), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 1
    brief = json.loads(lines[0])
    assert brief["id"] == str(SAMPLE)
    assert brief["title"] == "Riverton council backs new harbour bridge after marathon session"
    assert brief["published"] == "2025-03-12"
    assert brief["method"] == "extractive"
    assert len(brief["summary"]) == 3
    text = _article_text(SAMPLE)
    for bullet in brief["summary"]:
        assert bullet["generated"] is False
        assert bullet["spans"], bullet
        shown = " ".join(text[start:end] for start, end in bullet["spans"])
        assert bullet["text"][1:] in shown or shown[1:] in bullet["text"]
    assert {"read", "total"} <= set(brief["timings_ms"])
    speakers = {line["speaker"] for line in brief["who_said_what"]}
    assert "Elena Vasquez" in speakers and "Martin Okafor" in speakers


def test_sentences_option_changes_the_bullet_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["brief", str(SAMPLE), "--json", "--sentences", "2"]) == 0
    assert len(json.loads(capsys.readouterr().out)["summary"]) == 2


def test_batch_keeps_input_order_ids_and_reports_bad_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "batch.jsonl"
    rows = [
        json.dumps({"id": "grid", "source": str(ROOT / "examples" / "heatwave-grid.txt")}),
        json.dumps({"id": "gone", "source": str(tmp_path / "missing.txt")}),
        "{not json",
        json.dumps({"id": "dated", "source": str(SAMPLE), "published": "2025-03-13"}),
        json.dumps({"id": "baddate", "source": str(SAMPLE), "published": "13/03/2025"}),
    ]
    batch.write_text("\n".join(rows) + "\n", "utf-8")
    code = main(["brief", "--batch", str(batch), "--json"])
    results = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert code == 1  # some rows failed, and the run still finished
    assert [r["id"] for r in results] == ["grid", "gone", "line-3", "dated", "baddate"]
    assert "summary" in results[0] and "summary" in results[3]
    assert results[3]["published"] == "2025-03-13"
    assert "no such file" in results[1]["error"]
    assert "not valid JSON" in results[2]["error"]
    assert "YYYY-MM-DD" in results[4]["error"]


def test_stdin_text_is_briefed() -> None:
    result = _run("brief", "-", "--json", stdin=_article_text(SAMPLE))
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["summary"]) == 3
    assert result.stderr == ""  # no model-loading bars or library chatter


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (["brief", "no-such-file.txt"], None, 1, "no such file"),
        (["brief", "-"], "", 1, "empty"),
        (["brief", str(SAMPLE), "--published", "yesterday"], None, 2, "YYYY-MM-DD"),
        (["brief", "--batch", "nowhere.jsonl"], None, 2, "batch file not found"),
        (["brief"], None, 2, "give at least one article"),
        (["brief", str(SAMPLE), "--sentences", "0"], None, 2, "between 1 and 20"),
        (["serve", "telegram"], None, 2, "TELEGRAM_BOT_TOKEN is not set"),
        (["serve", "slack"], None, 2, "SLACK_BOT_TOKEN is not set"),
        (["ask", str(SAMPLE)], None, 2, "give an article and a question"),
    ],
)
def test_bad_input_is_one_line_and_no_traceback(
    args: list[str], stdin: str | None, code: int, message: str
) -> None:
    result = _run(*args, stdin=stdin)
    assert result.returncode == code
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("newsbrief:")]
    assert len(error_lines) == 1 and message in error_lines[0]
    assert result.stdout == ""


def test_text_output_shows_title_bullets_and_speakers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["brief", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Riverton council backs new harbour bridge")
    assert out.count("\n• ") >= 3
    assert "Who said what" in out


def test_quotes_json_spans_point_into_the_article(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quotes", str(SAMPLE), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    text = _article_text(SAMPLE)
    assert result["id"] == str(SAMPLE)
    quotes = result["quotes"]
    assert {q["speaker"] for q in quotes} >= {"Elena Vasquez", "Martin Okafor"}
    for quote in quotes:
        start, end = quote["content_span"]
        assert text[start:end] == quote["content"]
        assert quote["kind"] in {"direct", "indirect", "mixed"}
        if quote["cue_span"] is not None:
            assert text[slice(*quote["cue_span"])] == quote["cue"]
    called = next(q for q in quotes if q["cue"] == "called")
    # the aside "who has championed the project since …" is not the speaker
    assert called["speaker"] == "Elena Vasquez"


def test_quotes_for_one_speaker_and_for_nobody(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quotes", str(SAMPLE), "--speaker", "Okafor", "--json"]) == 0
    okafor = json.loads(capsys.readouterr().out)["quotes"]
    assert okafor and {q["speaker"] for q in okafor} == {"Martin Okafor"}
    assert any("I want a bridge as much as anyone" in q["content"] for q in okafor)
    assert main(["quotes", str(SAMPLE), "--speaker", "Zelensky"]) == 0
    assert "No quotes from Zelensky in this article." in capsys.readouterr().out


def test_ask_json_has_the_contract_shape(capsys: pytest.CaptureFixture[str]) -> None:
    question = "What did Okafor say about property taxes?"
    assert main(["ask", str(SAMPLE), question, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert set(answer) >= {"id", "found", "answer", "speaker", "quote", "when", "where"}
    assert answer["found"] is True
    assert answer["speaker"] == "Martin Okafor"
    assert "property taxes" in answer["quote"]
    text = _article_text(SAMPLE)
    assert answer["quote"] in text
    for evidence in answer["evidence"]:
        assert text[slice(*evidence["span"])] == evidence["text"]


def test_ask_batch_answers_follow_ups_within_one_conversation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = str(SAMPLE)
    rows = [
        {"id": "q1", "source": source, "question": "What did Okafor warn?", "conversation": "a"},
        {
            "id": "q2",
            "source": source,
            "question": "and what else did he say?",
            "conversation": "a",
        },
        {"id": "q3", "source": source, "question": "and what else did he say?"},
        {"id": "q4", "source": source, "question": "What did Zelensky say about the bridge?"},
        {"id": "q5", "source": str(tmp_path / "gone.txt"), "question": "Who spoke?"},
        {"id": "q6", "source": source},
    ]
    batch = tmp_path / "questions.jsonl"
    batch.write_text("".join(json.dumps(row) + "\n" for row in rows), "utf-8")
    code = main(["ask", "--batch", str(batch), "--json"])
    results = {r["id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert code == 1  # two rows failed; the others were answered
    assert list(results) == ["q1", "q2", "q3", "q4", "q5", "q6"]
    assert results["q1"]["speaker"] == "Martin Okafor"
    assert "cost estimate" in results["q1"]["quote"]
    follow_up = results["q2"]
    assert follow_up["found"] and follow_up["speaker"] == "Martin Okafor"
    assert "cost estimate" not in follow_up["quote"]  # something else he said
    assert results["q3"]["found"] is False  # no earlier question: "he" is nobody yet
    assert results["q4"]["found"] is False and "Zelensky" in results["q4"]["answer"]
    assert "no such file" in results["q5"]["error"]
    assert "question" in results["q6"]["error"]
