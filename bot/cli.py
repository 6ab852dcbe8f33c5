"""The ``newsbrief`` command line: briefs, quotes and answers for articles, and the bot.

Every command reads its sources, runs the models once per process and writes
either text for people or JSON (Lines) for tools. Bad input is one line on
stderr and a non-zero exit, never a traceback; in a batch a bad row becomes an
``{"id", "error"}`` object and the run goes on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from config.settings import ConfigError, Settings, SummaryMethod, load_settings

log = logging.getLogger("newsbrief")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(ValueError):
    """Bad command-line input; the message is one line."""


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class Job:
    """One unit of work: an article source, with the row's own fields in a batch."""

    id: str
    source: str
    published: date | None = None
    question: str | None = None
    conversation: str | None = None
    error: str | None = None


def parse_published(value: str | None) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise UsageError(f"published date must be YYYY-MM-DD, not {value!r}") from None


def read_batch(path: str, *, needs_question: bool = False) -> list[Job]:
    """Rows of a JSON Lines batch file; a bad row becomes a job that carries its error."""
    batch = Path(path)
    if not batch.is_file():
        raise UsageError(f"batch file not found: {path}")
    jobs: list[Job] = []
    try:
        lines = batch.read_text("utf-8").splitlines()
    except UnicodeDecodeError:
        raise UsageError(f"batch file is not UTF-8 text: {path}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fallback_id = f"line-{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            jobs.append(Job(fallback_id, "", error=f"line {number} is not valid JSON"))
            continue
        if not isinstance(row, dict):
            jobs.append(Job(fallback_id, "", error=f"line {number} is not a JSON object"))
            continue
        row_id = str(row.get("id", fallback_id))
        source = row.get("source")
        if not isinstance(source, str) or not source.strip():
            jobs.append(Job(row_id, "", error="the row has no 'source'"))
            continue
        question = row.get("question")
        if needs_question and (not isinstance(question, str) or not question.strip()):
            jobs.append(Job(row_id, source, error="the row has no 'question'"))
            continue
        try:
            published = parse_published(row.get("published"))
        except UsageError as error:
            jobs.append(Job(row_id, source, error=str(error)))
            continue
        conversation = row.get("conversation")
        jobs.append(
            Job(
                row_id,
                source,
                published,
                question=question if isinstance(question, str) else None,
                conversation=str(conversation) if conversation is not None else None,
            )
        )
    return jobs


def jobs_from_args(args: argparse.Namespace, *, needs_question: bool = False) -> list[Job]:
    if args.batch:
        if args.sources:
            raise UsageError("give sources or --batch, not both")
        return read_batch(args.batch, needs_question=needs_question)
    if not args.sources:
        raise UsageError("give at least one article: a file, a URL or - for stdin")
    published = parse_published(args.published)
    return [Job(source, source, published) for source in args.sources]


# --------------------------------------------------------------------------- output


class Output:
    """Writes results as JSON Lines or as text, keeping stdout clean of anything else."""

    def __init__(self, as_json: bool, stream: TextIO | None = None):
        self.as_json = as_json
        self.stream = stream or sys.stdout
        self.failures = 0

    def result(self, job: Job, payload: dict[str, Any], text: str) -> None:
        if self.as_json:
            self.stream.write(json.dumps({"id": job.id, **payload}, ensure_ascii=False) + "\n")
        else:
            self.stream.write(text.rstrip() + "\n\n")
        self.stream.flush()

    def error(self, job: Job, message: str) -> None:
        self.failures += 1
        if self.as_json:
            self.stream.write(
                json.dumps({"id": job.id, "error": message}, ensure_ascii=False) + "\n"
            )
            self.stream.flush()
        else:
            where = f"{job.source}: " if job.source else f"{job.id}: "
            print(f"newsbrief: {where}{message}", file=sys.stderr)


@contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr for batches (nothing for a single article)."""
    if total <= 1:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


@contextmanager
def loading_status(message: str) -> Iterator[None]:
    """A spinner on stderr while models load (the first start converts SmolLM2)."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield
        return
    with console.status(message):
        yield


# --------------------------------------------------------------------------- runner


Handler = Callable[["Runtime", Job], Awaitable[tuple[dict[str, Any], str]]]


@dataclass
class Runtime:
    """What a command needs: settings, the model service and an HTTP client, made once."""

    settings: Settings
    models: Any  # summarizer.models.ModelService
    http: Any  # httpx.AsyncClient

    async def read(self, job: Job) -> Any:
        from summarizer.reading import read_source

        return await read_source(
            job.source,
            published=job.published,
            max_chars=self.settings.max_article_chars,
            max_fetch_bytes=self.settings.max_fetch_bytes,
            http_client=self.http,
            article_id=job.id,
        )


async def run_jobs(
    settings: Settings,
    jobs: Sequence[Job],
    handler: Handler,
    out: Output,
    *,
    needs_generator: bool = False,
) -> int:
    """Run ``handler`` on each job in order; a failing job is reported and the run goes on."""
    from bot.app import http_client
    from summarizer.models import ModelError, ModelService
    from summarizer.reading import ReadError

    models = ModelService(settings)
    try:
        async with http_client(settings) as http:
            runtime = Runtime(settings, models, http)
            if any(job.error is None for job in jobs):
                try:
                    with loading_status("Loading models…"):
                        await models.run(models.embedder)
                        if needs_generator:
                            await models.run(models.generator)
                except ModelError as error:
                    raise UsageError(str(error)) from None
            with progress(len(jobs), "articles") as advance:
                for job in jobs:
                    try:
                        if job.error:
                            raise UsageError(job.error)
                        payload, text = await handler(runtime, job)
                    except (ReadError, ModelError, UsageError) as error:
                        out.error(job, str(error))
                    else:
                        out.result(job, payload, text)
                    advance()
    finally:
        models.close()
    if out.failures and out.failures == len(jobs):
        return EXIT_FAILED
    return EXIT_OK if not out.failures else EXIT_FAILED


# --------------------------------------------------------------------------- commands


async def brief_job(
    runtime: Runtime, job: Job, method: SummaryMethod | None, sentences: int | None
) -> tuple[dict[str, Any], str]:
    from summarizer.briefing import make_brief, render_brief_text

    started = time.perf_counter()
    article = await runtime.read(job)
    read_ms = (time.perf_counter() - started) * 1000
    brief = await make_brief(
        article,
        runtime.models,
        method=method or runtime.settings.summary_method,
        sentences=sentences or runtime.settings.summary_sentences,
    )
    payload = brief.to_json()
    payload["timings_ms"] = {"read": round(read_ms, 1), **payload.get("timings_ms", {})}
    payload["timings_ms"]["total"] = round((time.perf_counter() - started) * 1000, 1)
    return payload, render_brief_text(brief)


def cmd_brief(args: argparse.Namespace, settings: Settings) -> int:
    jobs = jobs_from_args(args)
    out = Output(args.json)

    async def handler(runtime: Runtime, job: Job) -> tuple[dict[str, Any], str]:
        return await brief_job(runtime, job, args.method, args.sentences)

    method = args.method or settings.summary_method
    return asyncio.run(
        run_jobs(settings, jobs, handler, out, needs_generator=method == "abstractive")
    )


async def quotes_job(runtime: Runtime, job: Job, speaker: str | None) -> tuple[dict[str, Any], str]:
    from summarizer.analysis import analyse
    from summarizer.answers import match_speaker
    from summarizer.briefing import format_attribution

    article = await runtime.read(job)
    analysis = await analyse(article, runtime.models)
    wanted = match_speaker(speaker, analysis) if speaker else None
    records = [r for r in analysis.quotes if speaker is None or (wanted and r.speaker == wanted)]
    payload = {"quotes": [record.to_json() for record in records]}
    if records:
        text = "\n".join(f"• {format_attribution(record)}" for record in records)
    elif speaker:
        text = f"No quotes from {speaker} in this article."
    else:
        text = "No quotes in this article."
    return payload, text


def cmd_quotes(args: argparse.Namespace, settings: Settings) -> int:
    jobs = jobs_from_args(args)
    out = Output(args.json)

    async def handler(runtime: Runtime, job: Job) -> tuple[dict[str, Any], str]:
        return await quotes_job(runtime, job, args.speaker)

    return asyncio.run(run_jobs(settings, jobs, handler, out))


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from summarizer.analysis import Analysis, analyse
    from summarizer.answers import ConversationState, answer_question

    if args.batch:
        if args.source or args.question:
            raise UsageError("give SOURCE QUESTION or --batch, not both")
        jobs = read_batch(args.batch, needs_question=True)
    else:
        if not args.source or not args.question:
            raise UsageError('give an article and a question: newsbrief ask SOURCE "QUESTION"')
        jobs = [
            Job(args.source, args.source, parse_published(args.published), question=args.question)
        ]
    out = Output(args.json)
    analyses: dict[tuple[str, date | None], Analysis] = {}
    conversations: dict[str, ConversationState] = {}

    async def handler(runtime: Runtime, job: Job) -> tuple[dict[str, Any], str]:
        key = (job.source, job.published)
        if key not in analyses:
            analyses[key] = await analyse(await runtime.read(job), runtime.models)
        analysis = analyses[key]
        if job.conversation is not None:
            state = conversations.setdefault(job.conversation, ConversationState())
        else:
            state = ConversationState()
        if state.analysis is not analysis:
            state.new_article(analysis)
        answer = await answer_question(job.question or "", state, runtime.models)
        return answer.to_json(), answer.answer

    return asyncio.run(run_jobs(settings, jobs, handler, out))


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import running_bot
    from bot.console import ConsoleChat, stdin_reader

    async def chat() -> None:
        async with running_bot(settings) as bot:
            await ConsoleChat(bot.core, stdin_reader(), sys.stdout).run()

    asyncio.run(chat())
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.serve import StartupError, check_configuration, chosen_platforms, serve

    platforms = chosen_platforms(args.platform)
    try:
        check_configuration(settings, platforms, webhook_url=args.webhook)
    except StartupError as error:
        raise UsageError(str(error)) from None
    try:
        asyncio.run(
            serve(
                settings,
                platforms,
                webhook_url=args.webhook,
                telegram_port=args.telegram_port,
                slack_port=args.port,
            )
        )
    except ValueError as error:  # a token the platform rejects, a missing secret
        raise UsageError(str(error)) from None
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="*", metavar="SOURCE", help="file, URL, or - for stdin")
    parser.add_argument("--published", metavar="YYYY-MM-DD", help="publication date")
    parser.add_argument("--batch", metavar="FILE.jsonl", help="rows with id, source, published")
    parser.add_argument("--json", action="store_true", help="JSON (Lines) on stdout")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbrief",
        description="Briefs of news articles: faithful summaries, who said what, and when.",
    )
    parser.add_argument("--config", type=Path, help="TOML settings file (or NEWSBRIEF_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    brief = commands.add_parser("brief", help="summarise articles")
    _add_source_options(brief)
    brief.add_argument("--method", choices=["extractive", "abstractive"])
    brief.add_argument("--sentences", type=int, metavar="N", help="bullets in the summary")
    brief.set_defaults(handler=cmd_brief)

    quotes = commands.add_parser("quotes", help="list who said what in articles")
    _add_source_options(quotes)
    quotes.add_argument("--speaker", metavar="NAME", help="only this speaker's statements")
    quotes.set_defaults(handler=cmd_quotes)

    ask = commands.add_parser("ask", help="ask a question about an article")
    ask.add_argument("source", nargs="?", metavar="SOURCE", help="file, URL, or - for stdin")
    ask.add_argument("question", nargs="?", metavar="QUESTION")
    ask.add_argument("--published", metavar="YYYY-MM-DD", help="publication date")
    ask.add_argument(
        "--batch",
        metavar="FILE.jsonl",
        help="rows with id, source, question, published, conversation",
    )
    ask.add_argument("--json", action="store_true", help="JSON (Lines) on stdout")
    ask.set_defaults(handler=cmd_ask)

    chat = commands.add_parser("chat", help="chat in the terminal (no token needed)")
    chat.set_defaults(handler=cmd_chat)

    serve = commands.add_parser("serve", help="run the bot on Telegram, Slack or both")
    serve.add_argument("platform", choices=["telegram", "slack", "all"])
    serve.add_argument("--webhook", metavar="URL", help="Telegram: webhook mode at this public URL")
    serve.add_argument("--telegram-port", type=int, default=8443, help="Telegram webhook port")
    serve.add_argument("--port", type=int, default=3000, help="Slack HTTP mode port")
    serve.set_defaults(handler=cmd_serve)

    from bot.doctor import add_parser as add_doctor_parser

    add_doctor_parser(commands)

    from bot.backup import add_parsers as add_backup_parsers  # export, import

    add_backup_parsers(commands)
    return parser


def _quiet_libraries(verbose: bool) -> None:
    """Keep library chatter (hub checks, load reports) off the user's terminal.

    transformers draws a "Loading weights" bar for a model that loads in under a
    second; it is shown with ``--verbose`` only.
    """
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if not verbose:
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for noisy in ("httpx", "trafilatura", "htmldate", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from bot.observability import configure_logging, secret_values

    configure_logging(verbose=args.verbose)
    _quiet_libraries(args.verbose)
    try:
        if getattr(args, "doctor", False):  # it loads and judges the settings itself
            from bot.doctor import run_doctor

            return run_doctor(args)
        settings = load_settings(config_file=args.config)
        # JSON lines if asked for; every token and password blanked in every log line.
        configure_logging(
            verbose=args.verbose, json_lines=settings.log_json, secrets=secret_values(settings)
        )
        if settings.log_json:  # model-loading progress bars would break the JSON lines
            os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
        if getattr(args, "sentences", None) is not None and not 1 <= args.sentences <= 20:
            raise UsageError("--sentences must be between 1 and 20")
        code: int = args.handler(args, settings)
        return code
    except (ConfigError, UsageError) as error:
        print(f"newsbrief: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("newsbrief: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug: one line for the user, the traceback with -v
        if args.verbose:  # through the log handler: JSON when asked for, secrets blanked
            log.error("internal error", exc_info=error)
        print(
            f"newsbrief: internal error ({type(error).__name__}: {error}); "
            "run with -v for details and please report it",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
