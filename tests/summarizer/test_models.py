"""Loading models from any local folder, offline: tiny random models the tests build themselves.

These prove that a user who configures their own Hugging Face folder (seq2seq,
causal chat model, or encoder for embeddings) gets it loaded and run without a hub.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from config import load_settings
from summarizer.models import ModelError, ModelService, locate_model

WORDS = [
    *["the", "president", "said", "talks", "on", "the", "war", "would", "go", "on", "."],
    *[
        "a",
        "minister",
        "told",
        "reporters",
        "that",
        "the",
        "plan",
        "was",
        "good",
        "and",
        "the",
        "deal",
        "was",
        "near",
        ".",
    ],
    *["they", "will", "meet", "on", "tuesday", "."],
]


def _save_tokenizer(folder: Path, *, chat_template: str | None = None) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(["<pad>", "<s>", "</s>", "<unk>", *sorted(set(WORDS))])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
    )
    if chat_template:
        tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(folder)


def _vocab_size() -> int:
    return 4 + len(set(WORDS))


@pytest.fixture(scope="module")
def tiny_bart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import BartConfig, BartForConditionalGeneration

    folder = tmp_path_factory.mktemp("tiny-bart")
    config = BartConfig(
        vocab_size=_vocab_size(),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=128,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
        forced_eos_token_id=2,
    )
    BartForConditionalGeneration(config).save_pretrained(folder)
    _save_tokenizer(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_chat_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-llama")
    config = LlamaConfig(
        vocab_size=_vocab_size(),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    template = (
        "{% for m in messages %}<s> {{ m['content'] }} </s>{% endfor %}"
        "{% if add_generation_prompt %}<s>{% endif %}"
    )
    _save_tokenizer(folder, chat_template=template)
    return folder


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-bert")
    config = BertConfig(
        vocab_size=_vocab_size(),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
        pad_token_id=0,
    )
    BertModel(config).save_pretrained(folder)
    _save_tokenizer(folder)
    return folder


def _service(tmp_path: Path, **overrides: object) -> ModelService:
    return ModelService(load_settings(cache_dir=tmp_path / "cache", **overrides))


def test_a_local_seq2seq_folder_generates_text(tiny_bart: Path, tmp_path: Path) -> None:
    service = _service(tmp_path, summarizer_model=str(tiny_bart), max_new_tokens=16)
    try:
        generator = service.generator()
        assert generator.is_seq2seq
        text = service.generate_sync(
            "Summarize.", "the president said talks on the war would go on ."
        )
        assert isinstance(text, str)
    finally:
        service.close()


async def test_a_local_chat_model_runs_through_its_chat_template(
    tiny_chat_llama: Path, tmp_path: Path
) -> None:
    service = _service(tmp_path, summarizer_model=str(tiny_chat_llama), max_new_tokens=16)
    try:
        text = await service.generate(
            "Summarize.", "a minister told reporters that the deal was near ."
        )
        generator = service.generator()
        assert not generator.is_seq2seq and generator.has_chat_template
        assert isinstance(text, str)
    finally:
        service.close()


async def test_a_local_encoder_folder_gives_normalised_embeddings(
    tiny_bert: Path, tmp_path: Path
) -> None:
    service = _service(tmp_path, embedding_model=str(tiny_bert))
    try:
        vectors = await service.embed(["the deal was near .", "they will meet on tuesday ."])
        assert vectors.shape == (2, 16)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    finally:
        service.close()


async def test_concurrent_callers_share_one_loaded_model(tiny_bert: Path, tmp_path: Path) -> None:
    service = _service(tmp_path, embedding_model=str(tiny_bert), model_workers=2)
    try:
        results = await asyncio.gather(*(service.embed([f"the plan {i}"]) for i in range(8)))
        assert all(r.shape == (1, 16) for r in results)
        assert service.embedder() is service.embedder()
    finally:
        service.close()


def test_bundled_embeddings_place_paraphrases_close(models: ModelService) -> None:
    vectors = models.embed_sync(
        [
            "The president spoke with the Russian leader by phone.",
            "Trump had a telephone call with Putin.",
            "Heavy rain flooded the football stadium.",
        ]
    )
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("/no/such/folder", "model folder not found"),
        ("./missing-model", "model folder not found"),
    ],
)
def test_a_missing_model_folder_is_one_clear_error(name: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        locate_model(name)


def test_a_folder_without_weights_is_one_clear_error(tmp_path: Path) -> None:
    service = _service(tmp_path, summarizer_model=str(tmp_path))
    try:
        with pytest.raises(ModelError, match=r"no config\.json or \.gguf"):
            service.generator()
    finally:
        service.close()


async def test_a_slow_model_call_is_cut_off_at_the_time_limit(tmp_path: Path) -> None:
    import time

    from summarizer.models import ModelBusyError

    service = _service(tmp_path, model_timeout_s=0.05)
    try:
        with pytest.raises(ModelBusyError, match="did not finish"):
            await service.run(time.sleep, 0.5)
    finally:
        service.close()
