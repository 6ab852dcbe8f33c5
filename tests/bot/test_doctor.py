"""``newsbrief doctor``: one line per check, exit 1 on any problem, never a token on screen."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.storage.db import migrate
from config import Settings

TELEGRAM_TOKEN = "123456789:AAHsecretSECRETsecretSECRETsecret12"
SLACK_BOT = "xoxb-1111-2222-SECRETslackvalue"
SLACK_SIGNING = "signing-SECRET-value"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean environment: no user config, data and cache in a temp folder."""
    for name in list(os.environ):
        if name.startswith(("NEWSBRIEF_", "TELEGRAM_", "SLACK_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NEWSBRIEF_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSBRIEF_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def migrated_sqlite(data_dir: Path, revision: str = "head") -> None:
    """A database as ``newsbrief serve`` leaves it (doctor runs its own event loop)."""
    asyncio.run(migrate(f"sqlite+aiosqlite:///{data_dir / 'newsbrief.db'}", revision))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, str], str]:
    """Exit code, each check's line by name, and everything printed."""
    code = main(["doctor", *args])
    out, err = capsys.readouterr()
    lines = {}
    for line in out.splitlines()[:-1]:
        status, _, rest = line.partition(" ")
        name = rest.strip()[:14].strip()
        lines[name] = line
        assert status in ("ok", "FAIL", "skip"), line
    return code, lines, out + err


def test_a_ready_installation_passes(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    migrated_sqlite(env / "data")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_BOT)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SLACK_SIGNING)
    code, lines, printed = run(capsys, "--no-models")
    assert code == 0, printed
    assert list(lines) == [
        "settings",
        "telegram",
        "slack",
        "data dir",
        "cache dir",
        "database",
        "models",
    ]
    assert all(not line.startswith("FAIL") for line in lines.values())
    assert "at the latest migration" in lines["database"]
    assert printed.rstrip().endswith("all checks passed")
    for secret in (TELEGRAM_TOKEN, SLACK_BOT, SLACK_SIGNING):
        assert secret not in printed


def test_malformed_tokens_fail_with_the_fix_and_never_show_the_value(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    migrated_sqlite(env / "data")
    bad_telegram = "not-a-token-SECRET-telegram"
    bad_slack = "xoxp-user-token-SECRET-slack"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bad_telegram)
    monkeypatch.setenv("SLACK_BOT_TOKEN", bad_slack)
    code, lines, printed = run(capsys, "--no-models")
    assert code == 1
    assert lines["telegram"].startswith("FAIL") and "@BotFather" in lines["telegram"]
    assert lines["slack"].startswith("FAIL") and "xoxb-" in lines["slack"]
    assert printed.rstrip().endswith("2 problem(s) found")
    code = main(["doctor", "--no-models", "--json"])
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    assert {row["check"]: row["status"] for row in report["checks"]}["telegram"] == "fail"
    for secret in (bad_telegram, bad_slack):
        assert secret not in printed and secret not in out + err


def test_settings_that_do_not_load_are_one_line(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSBRIEF_SUMMARY_SENTENCES", "99")
    code, lines, printed = run(capsys, "--no-models")
    assert code == 1
    assert list(lines) == ["settings"]
    assert "summary_sentences" in lines["settings"] and "Traceback" not in printed


def test_a_missing_database_is_reported_not_created(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, _ = run(capsys, "--no-models")
    assert code == 1
    assert lines["database"].startswith("FAIL") and "newsbrief serve" in lines["database"]
    assert not (env / "data").exists(), "doctor changes nothing"


def test_a_database_behind_the_latest_migration_fails(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    migrated_sqlite(env / "data", revision="0001")
    code, lines, _ = run(capsys, "--no-models")
    assert code == 1
    assert "at migration 0001" in lines["database"] and "migrates it on start" in lines["database"]


def test_an_unreachable_database_fails_without_showing_its_password(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:PASSWORD-secret@127.0.0.1:9/newsbrief")
    code, lines, printed = run(capsys, "--no-models", "--timeout", "5")
    assert code == 1
    assert lines["database"].startswith("FAIL") and "DATABASE_URL" in lines["database"]
    assert "PASSWORD-secret" not in printed


def test_both_engines_pass_when_migrated(
    env: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    asyncio.run(migrate(database_url))
    monkeypatch.setenv("DATABASE_URL", database_url)
    code, lines, printed = run(capsys, "--no-models")
    assert code == 0, printed
    assert lines["database"].startswith("ok")


def test_a_file_where_the_data_folder_should_be_fails(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "not-a-folder").write_text("x")
    monkeypatch.setenv("NEWSBRIEF_DATA_DIR", str(env / "not-a-folder" / "data"))
    code, lines, _ = run(capsys, "--no-models")
    assert code == 1
    assert lines["data dir"].startswith("FAIL") and "NEWSBRIEF_DATA_DIR" in lines["data dir"]


def test_a_model_that_does_not_load_names_the_variable(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    migrated_sqlite(env / "data")
    monkeypatch.setenv("NEWSBRIEF_EMBEDDING_MODEL", str(env / "no-such-model"))
    monkeypatch.setenv("NEWSBRIEF_SUMMARIZER_MODEL", str(env / "no-such-model"))
    code, lines, _ = run(capsys)
    assert code == 1
    assert lines["embedding"].startswith("FAIL")
    assert "NEWSBRIEF_EMBEDDING_MODEL" in lines["embedding"]
    assert "NEWSBRIEF_SUMMARIZER_MODEL" in lines["summary model"]


@pytest.mark.slow
def test_the_bundled_models_load_and_run(
    env: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    migrated_sqlite(env / "data")
    monkeypatch.setenv("NEWSBRIEF_CACHE_DIR", str(settings.cache_dir))  # the converted SmolLM2
    code, lines, printed = run(capsys)
    assert code == 0, printed
    assert "384-dim vectors" in lines["embedding"]
    assert "generating" in lines["summary model"]
