"""``newsbrief doctor``: is this installation ready to run? One line per check.

It checks what an operator gets wrong before the bot ever answers: settings
that do not load, tokens of the wrong shape, models that do not load, a
database that is unreachable or behind the latest migration, folders that
cannot be written. It never prints a token or a password and creates no
database, so it is safe as a container health check (``--no-models`` keeps it
fast; the models check, like the bot, fills the converted-model cache once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, TextIO

from config.settings import ConfigError, Settings, load_settings

Status = Literal["ok", "fail", "skip"]

EXIT_OK = 0
EXIT_PROBLEMS = 1


@dataclass(frozen=True)
class Check:
    """The outcome of one check: what was checked, how it went, and what to do."""

    check: str
    status: Status
    detail: str

    def line(self) -> str:
        label = {"ok": "ok", "fail": "FAIL", "skip": "skip"}[self.status]
        return f"{label:<5} {self.check:<14} {self.detail}"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    return f"{type(error).__name__}: {text}"[:300] if text else type(error).__name__


# --------------------------------------------------------------------------- checks


def check_settings(config_file: Path | None) -> tuple[Check, Settings | None]:
    source = config_file or (
        Path(os.environ["NEWSBRIEF_CONFIG"]) if os.environ.get("NEWSBRIEF_CONFIG") else None
    )
    try:
        settings = load_settings(config_file=config_file)
    except ConfigError as error:
        return Check("settings", "fail", f"{error} — fix the variable or the config file"), None
    where = f"config file {source} + environment" if source else "environment and defaults"
    return Check("settings", "ok", f"loaded from {where}"), settings


def check_telegram(settings: Settings) -> Check:
    if settings.telegram_bot_token is None and settings.telegram_webhook_secret is None:
        return Check("telegram", "skip", "not configured (set TELEGRAM_BOT_TOKEN to serve there)")
    from bot.telegram import check_token, webhook_secret

    problem = check_token(settings)
    if problem:
        return Check("telegram", "fail", problem)
    if settings.telegram_webhook_secret is not None:
        try:
            webhook_secret(settings)
        except ValueError as error:
            return Check("telegram", "fail", str(error))
    return Check("telegram", "ok", "TELEGRAM_BOT_TOKEN has the shape of a bot token")


def check_slack(settings: Settings) -> Check:
    variables = (settings.slack_bot_token, settings.slack_app_token, settings.slack_signing_secret)
    if all(value is None for value in variables):
        return Check("slack", "skip", "not configured (set SLACK_BOT_TOKEN to serve there)")
    from bot.slack import check_tokens

    problem = check_tokens(settings)
    if problem:
        return Check("slack", "fail", problem)
    mode = "Socket Mode" if settings.slack_app_token is not None else "HTTP mode"
    return Check("slack", "ok", f"tokens have the right shape ({mode})")


def check_folder(name: str, path: Path, variable: str) -> Check:
    """Writable now, or creatable by the bot (the nearest existing parent is writable)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    fix = f"set {variable} to a writable folder"
    if not existing.is_dir():
        return Check(name, "fail", f"{existing} is not a folder — {fix}")
    if existing == path:
        try:
            with tempfile.NamedTemporaryFile(dir=path, prefix=".newsbrief-doctor-"):
                pass
        except OSError as error:
            return Check(name, "fail", f"{path} is not writable ({error.strerror}) — {fix}")
        return Check(name, "ok", f"{path} is writable")
    if not os.access(existing, os.W_OK | os.X_OK):
        return Check(name, "fail", f"{path} does not exist and {existing} is not writable — {fix}")
    return Check(name, "ok", f"{path} will be created on first use")


async def _database_revision(url: str) -> tuple[str | None, str | None]:
    """The database's Alembic revision and the newest one this version ships."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import Connection, text

    from bot.storage.db import alembic_config, create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

            def current(sync: Connection) -> str | None:
                return MigrationContext.configure(sync).get_current_revision()

            revision = await connection.run_sync(current)
    finally:
        await engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    return revision, head


def check_database(settings: Settings, timeout_s: float) -> Check:
    from sqlalchemy.engine import make_url

    from bot.storage.db import default_database_url

    url = default_database_url(settings.database_url, settings.data_dir)
    shown = make_url(url).render_as_string(hide_password=True)
    first_start = "`newsbrief serve` creates and migrates it on start"
    if url.startswith("sqlite") and ":///" in url and not url.endswith(":memory:"):
        path = Path(url.split(":///", 1)[1])
        if not path.is_file():  # connecting would create it: report, do not create
            return Check("database", "fail", f"no database at {path} yet — {first_start}")
    try:
        revision, head = asyncio.run(asyncio.wait_for(_database_revision(url), timeout_s))
    except TimeoutError:
        return Check(
            "database",
            "fail",
            f"{shown} did not answer within {timeout_s:g} s — check DATABASE_URL and the server",
        )
    except Exception as error:  # any driver's failure is a finding, not a crash
        return Check(
            "database",
            "fail",
            f"cannot reach {shown} ({_first_line(error)}) — check DATABASE_URL",
        )
    if revision is None:
        return Check("database", "fail", f"{shown} has no NewsBrief tables — {first_start}")
    if revision != head:
        return Check(
            "database",
            "fail",
            f"{shown} is at migration {revision}, this version needs {head} — "
            "`newsbrief serve` migrates it on start",
        )
    return Check("database", "ok", f"{shown} reachable, at the latest migration ({head})")


def check_models(settings: Settings) -> list[Check]:
    """Load both models the way the bot does, and run each once on a few words."""
    from transformers.utils import logging as transformers_logging

    from summarizer.models import ModelError, ModelService

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # no load bars
    service = ModelService(settings)
    checks: list[Check] = []

    def attempt(name: str, model: str, load: Callable[[], str]) -> None:
        started = time.perf_counter()
        try:
            what = load()
        except ModelError as error:
            checks.append(Check(name, "fail", f"{error} — check {_variable(name)}"))
        except Exception as error:  # torch/transformers raise many kinds
            checks.append(
                Check(name, "fail", f"{model} did not load ({_first_line(error)})"),
            )
        else:
            seconds = time.perf_counter() - started
            checks.append(Check(name, "ok", f"{model} {what} in {seconds:.1f} s"))

    def embedding() -> str:
        vectors = service.embed_sync(["NewsBrief doctor"])
        return f"loaded, {vectors.shape[1]}-dim vectors"

    def generator() -> str:
        service.generator().generate("Answer in one word.", "Hello", 2)
        return "loaded and generating"

    try:
        attempt("embedding", settings.embedding_model, embedding)
        attempt("summary model", settings.summarizer_model, generator)
    finally:
        service.close()
    return checks


def _variable(check: str) -> str:
    return "NEWSBRIEF_EMBEDDING_MODEL" if check == "embedding" else "NEWSBRIEF_SUMMARIZER_MODEL"


# --------------------------------------------------------------------------- running


def diagnose(
    config_file: Path | None, *, models: bool = True, timeout_s: float = 10.0
) -> tuple[list[Check], Settings | None]:
    """Every check, in order; later checks are skipped when the settings do not load."""
    first, settings = check_settings(config_file)
    if settings is None:
        return [first], None
    checks = [
        first,
        check_telegram(settings),
        check_slack(settings),
        check_folder("data dir", settings.data_dir, "NEWSBRIEF_DATA_DIR"),
        check_folder("cache dir", settings.cache_dir, "NEWSBRIEF_CACHE_DIR"),
        check_database(settings, timeout_s),
    ]
    if models:
        checks.extend(check_models(settings))
    else:
        checks.append(Check("models", "skip", "not loaded (--no-models)"))
    return checks, settings


def report(checks: list[Check], as_json: bool, secrets: list[str], out: TextIO) -> None:
    """Write the findings; any secret that slipped into a message is blanked first."""

    def clean(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, "<redacted>")
        return text

    problems = sum(check.status == "fail" for check in checks)
    if as_json:
        rows = [{**asdict(check), "detail": clean(check.detail)} for check in checks]
        out.write(json.dumps({"ok": problems == 0, "checks": rows}, ensure_ascii=False) + "\n")
        return
    for check in checks:
        out.write(clean(check.line()) + "\n")
    out.write("all checks passed\n" if not problems else f"{problems} problem(s) found\n")


def run_doctor(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """The ``doctor`` command: 0 when nothing failed, 1 otherwise."""
    from bot.observability import secret_values

    checks, settings = diagnose(
        args.config, models=not args.no_models, timeout_s=getattr(args, "timeout", 10.0)
    )
    secrets = secret_values(settings) if settings is not None else []
    report(checks, args.json, secrets, out or sys.stdout)
    return EXIT_PROBLEMS if any(check.status == "fail" for check in checks) else EXIT_OK


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``doctor`` subcommand's options (kept here, beside the checks they steer)."""
    doctor = commands.add_parser(
        "doctor", help="check settings, tokens, models, database and folders; one line each"
    )
    doctor.add_argument("--json", action="store_true", help="one JSON object on stdout")
    doctor.add_argument(
        "--no-models", action="store_true", help="skip loading the models (a fast check)"
    )
    doctor.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="database answer limit"
    )
    doctor.set_defaults(handler=run_doctor, doctor=True)
