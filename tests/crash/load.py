"""Many chats talking to one bot process through the fake Telegram and Slack servers.

Shared by the soak benchmark (``benchmarks/soak.py``: 200 chats for minutes, memory
sampled) and its smoke test (``tests/crash/test_soak_smoke.py``). Each chat is a user in a
loop: an article (a distinct variant of ``examples/*.txt``, so the analysis is real work,
not a cache hit), then follow-up questions about it, with think time between messages.
Latency is from putting the message on the fake server to the bot's reply arriving there.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import aiohttp

from tests.crash.helpers import ROOT
from tests.fakes.slack_api import FakeSlack, SlackSender
from tests.fakes.telegram_api import FakeTelegram

Kind = Literal["article", "question"]
Outcome = Literal["ok", "busy", "error", "unanswered"]

#: Replies that say "not now" (rate limits, a full queue, a model time limit).
BUSY = re.compile(r"busy|too many|faster than I can|try again in", re.IGNORECASE)
#: "You're 3rd in line": a notice before the answer, not the answer.
NOTICE = re.compile(r"in line\. I'll answer", re.IGNORECASE)
#: Settings for load runs: limits per user and chat, and the queue, out of the way (the
#: soak measures the bot's capacity, not its abuse limits).
UNLIMITED = {
    "NEWSBRIEF_RATE_USER_BURST": "100000",
    "NEWSBRIEF_RATE_CHAT_BURST": "100000",
    "NEWSBRIEF_RATE_QUESTION_BURST": "100000",
    "NEWSBRIEF_WORK_MAX_WAITING": "100000",
}
#: Replies that say something went wrong on the bot's side.
ERROR = re.compile(r"went wrong|not available right now|couldn't read that", re.IGNORECASE)

SURNAMES = (
    "Adebayo", "Lindqvist", "Moreau", "Tanaka", "Kowalski", "Haddad", "Oliveira", "Novak",
    "Fischer", "Mensah", "Castillo", "Ibrahim", "Sorensen", "Petrova", "Nakamura", "Quinn",
)  # fmt: skip
TOWNS = ("Eastwick", "Marlow Bay", "Northfield", "Port Alder", "Kestrel Falls", "Greyhaven")
_HONORIFIC = re.compile(r"\b(?:Mr|Ms|Mrs|Dr)\. ([A-Z][a-z]+)")
_NUMBER = re.compile(r"(?<![\d,.])\d{1,3}(?![\d,])")


def examples() -> list[str]:
    return [p.read_text("utf-8") for p in sorted((ROOT / "examples").glob("*.txt"))]


def article_variant(number: int, bases: Sequence[str]) -> tuple[str, list[str]]:
    """A distinct article: a sample with other people, another town and other numbers.

    Returns the text and the surnames in it (for questions). Every sentence differs from
    the sample's, so nothing is answered from the sentence-embedding cache.
    """
    base = bases[number % len(bases)]
    round_ = number // len(bases) + 1
    surnames = list(dict.fromkeys(_HONORIFIC.findall(base)))
    text = base
    new_names = []
    for index, surname in enumerate(surnames):
        replacement = SURNAMES[(round_ * 5 + index * 3 + number) % len(SURNAMES)]
        replacement += "-" + SURNAMES[(round_ + index) % len(SURNAMES)] if round_ > 3 else ""
        text = re.sub(rf"\b{surname}\b", replacement, text)
        new_names.append(replacement)
    town = base.split()[0]
    if town.istitle():
        text = re.sub(rf"\b{town}\b", f"{TOWNS[number % len(TOWNS)]} {round_}", text)
    text = _NUMBER.sub(lambda m: str(int(m.group(0)) + round_), text)
    return text, new_names


def questions(surnames: Sequence[str]) -> list[str]:
    name = surnames[0] if surnames else "the mayor"
    return [
        "Who said what about it, and when?",
        f"What did {name} say?",
        "When did it happen?",
        f"quote {surnames[-1] if surnames else name}",
    ]


@dataclass(frozen=True)
class Sample:
    platform: str
    kind: Kind
    outcome: Outcome
    sent_at: float  # seconds since the run started
    latency_ms: float


@dataclass
class LoadResult:
    samples: list[Sample] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def of(self, kind: Kind | None = None, outcome: Outcome | None = None) -> list[Sample]:
        return [
            s
            for s in self.samples
            if (kind is None or s.kind == kind) and (outcome is None or s.outcome == outcome)
        ]


def classify(text: str) -> Outcome:
    if ERROR.search(text):
        return "error"
    if BUSY.search(text):
        return "busy"
    return "ok"


class Chats:
    """Sends a chat's message on its platform and waits for the bot's next reply there."""

    def __init__(
        self, telegram: FakeTelegram | None, slack: FakeSlack | None, reply_timeout_s: float
    ) -> None:
        self.telegram = telegram
        self.slack = slack
        self.timeout = reply_timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._events: SlackSender | None = None

    async def __aenter__(self) -> Chats:
        # Only the event-building half of the signing client is used (Socket Mode).
        self._session = aiohttp.ClientSession()
        self._events = SlackSender("", "unused", self._session)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def telegram_turn(self, chat_id: int, text: str) -> tuple[str | None, float]:
        assert self.telegram is not None
        fake = self.telegram
        seen = len(fake.messages(chat_id))
        started = time.perf_counter()
        fake.push_text(chat_id, text)

        def answered() -> str | None:
            texts = (m.plain for m in fake.messages(chat_id)[seen:])
            return next((t for t in texts if not NOTICE.search(t)), None)

        try:
            await fake.wait_until(lambda: answered() is not None, self.timeout, lambda: "reply")
        except AssertionError:
            return None, (time.perf_counter() - started) * 1000
        return answered(), (time.perf_counter() - started) * 1000

    async def slack_turn(
        self, channel: str, text: str, thread_ts: str | None
    ) -> tuple[str | None, float, str]:
        """Post a DM (in ``thread_ts`` when given); the reply text, ms, and the message ts."""
        assert self.slack is not None and self._events is not None
        fake = self.slack
        seen = len(fake.posts(channel))
        event = self._events.message_event(text, channel=channel, user=f"U{channel[1:]}")
        if thread_ts:
            event["thread_ts"] = thread_ts
        started = time.perf_counter()
        await fake.send_envelope(self._events.event_envelope(event))

        def answered() -> str | None:
            texts = (str(p.payload.get("text", "")) for p in fake.posts(channel)[seen:])
            return next((t for t in texts if not NOTICE.search(t)), None)

        try:
            await fake.wait_for(lambda: answered() is not None, self.timeout)
        except AssertionError:
            return None, (time.perf_counter() - started) * 1000, str(event["ts"])
        return answered(), (time.perf_counter() - started) * 1000, str(event["ts"])


async def run_chat(
    chats: Chats,
    platform: str,
    number: int,
    deadline: float,
    result: LoadResult,
    *,
    think_s: float,
    questions_per_article: int,
    rng: random.Random,
    next_article: Callable[[], int],
    bases: Sequence[str],
    min_turns: int = 0,
) -> None:
    """One user until ``deadline``: an article, a few questions about it, again."""
    thread: str | None = None
    asked: list[str] = []
    turn = 0
    await asyncio.sleep(rng.uniform(0, think_s))  # users arrive over the first think time
    while time.perf_counter() < deadline or turn < min_turns:
        kind: Kind = "article" if turn % (questions_per_article + 1) == 0 else "question"
        if kind == "article":
            text, names = article_variant(next_article(), bases)
            asked = questions(names)
        else:
            text = asked[(turn - 1) % len(asked)]
        sent_at = time.perf_counter() - result.started
        if platform == "telegram":
            reply, ms = await chats.telegram_turn(number, text)
        else:
            channel = f"D{number:08d}"
            in_thread = thread if kind == "question" else None
            reply, ms, ts = await chats.slack_turn(channel, text, in_thread)
            if kind == "article":
                thread = ts  # questions follow in the article's thread, as in Slack
        outcome: Outcome = "unanswered" if reply is None else classify(reply)
        result.samples.append(Sample(platform, kind, outcome, sent_at, ms))
        turn += 1
        await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)


async def drive(
    telegram: FakeTelegram,
    slack: FakeSlack,
    *,
    telegram_chats: int,
    slack_chats: int,
    seconds: float,
    think_s: float,
    questions_per_article: int = 3,
    reply_timeout_s: float = 300.0,
    seed: int = 1,
    min_turns: int = 0,
) -> LoadResult:
    """Run every chat for ``seconds`` and at least ``min_turns`` messages; all samples."""
    rng = random.Random(seed)
    bases = examples()
    counter = iter(range(10**9))
    result = LoadResult()
    deadline = result.started + seconds
    async with Chats(telegram, slack, reply_timeout_s) as chats:
        users = [("telegram", 100 + i) for i in range(telegram_chats)]
        users += [("slack", 100 + i) for i in range(slack_chats)]
        await asyncio.gather(
            *(
                run_chat(
                    chats,
                    platform,
                    number,
                    deadline,
                    result,
                    think_s=think_s,
                    questions_per_article=questions_per_article,
                    rng=random.Random(rng.random()),
                    next_article=lambda: next(counter),
                    bases=bases,
                    min_turns=min_turns,
                )
                for platform, number in users
            )
        )
    return result


async def wait_until_connected(telegram: FakeTelegram, slack: FakeSlack | None) -> None:
    """The bot polls Telegram and holds a Socket Mode connection to Slack."""
    await telegram.wait_for_call("getUpdates", timeout=180)
    if slack is not None:
        await slack.wait_for(lambda: bool(slack.sockets), 180)


def slack_settings(slack: FakeSlack) -> tuple[str, str]:
    return slack.api_url, "xoxb-fake-soak-token"
