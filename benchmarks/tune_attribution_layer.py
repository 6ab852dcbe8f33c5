"""Fine-tune MiniLM's third layer together with a trained attribution head.

The shipped tagger reads frozen MiniLM features; here the last layer it runs (the third) is
trained with the head on PolNeAR train, so the features themselves learn where reported
content starts and ends. Decoding settings are chosen on dev as for the frozen head; the
test split is never read. Run from the repository root, after
``train_attribution_tagger.py`` has built its feature cache and trained a head::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/tune_attribution_layer.py \\
        --cache /tmp/attribution_cache --head summarizer/data/attribution_head.npz \\
        --epochs 3 --out summarizer/data/attribution_head.npz

The layer's weights go into the same ``.npz`` as ``tuned.2.<parameter>`` arrays;
:class:`summarizer.attribution_tagger.AttributionTagger` swaps them in. Large arrays are
stored as float16 (about 4 MB in all).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from train_attribution_tagger import Item, build, refresh_lexical, tune  # noqa: E402

from config.settings import BUNDLED_EMBEDDING_MODEL  # noqa: E402
from summarizer.attribution_tagger import (  # noqa: E402
    AttributionTagger,
    _truncated,
    article_windows,
)
from summarizer.models import EmbeddingModel, locate_model  # noqa: E402

LAYER = 2  # the third layer: the tagger runs layers 0, 1 and 2


def layer_inputs(embedder: Any, items: list[Item]) -> list[list[Any]]:
    """Per article, per window: the hidden states entering layer ``LAYER`` ([CLS] … [SEP])."""
    import torch

    tokenizer, model = embedder.tokenizer, _truncated(embedder.model, LAYER)
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    out: list[list[Any]] = []
    started = time.perf_counter()
    with torch.inference_mode():
        for k, item in enumerate(items):
            windows = article_windows(tokenizer, item.article)
            assert sum(len(ids) for ids, _ in windows) == len(item.labels), item.doc.stem
            states = []
            for ids, _ in windows:
                input_ids = torch.tensor([[cls_id, *ids, sep_id]])
                hidden = model(input_ids=input_ids, output_hidden_states=True).hidden_states[-1]
                states.append(hidden[0].to(torch.float16))
            out.append(states)
            if k % 200 == 0:
                print(
                    f"layer inputs {k}/{len(items)} {time.perf_counter() - started:.0f}s",
                    flush=True,
                )
    return out


def run_layer(layer: Any, windows: list[Any]) -> Any:
    """The layer over one article's windows (padded into one batch); wordpiece states only."""
    import torch

    longest = max(w.shape[0] for w in windows)
    batch = torch.zeros((len(windows), longest, windows[0].shape[1]))
    mask = torch.full((len(windows), 1, 1, longest), torch.finfo(torch.float32).min)
    for row, states in enumerate(windows):
        batch[row, : states.shape[0]] = states.float()
        mask[row, 0, 0, : states.shape[0]] = 0.0
    result = layer(batch, attention_mask=mask)
    hidden = result[0] if isinstance(result, tuple) else result
    return torch.cat([hidden[row, 1 : w.shape[0] - 1] for row, w in enumerate(windows)])


class Head:  # a thin torch mirror of the numpy head, initialised from its arrays
    def __init__(self, arrays: dict[str, npt.NDArray[np.float32]]) -> None:
        import torch
        from torch import nn

        self.dilations = [int(d) for d in arrays["dilations"]]
        hidden, dim = arrays["w_in"].shape
        self.inp = nn.Linear(dim, hidden)
        self.convs: list[nn.Conv1d] = [
            nn.Conv1d(hidden, hidden, 5, padding=2 * d, dilation=d) for d in self.dilations
        ]
        self.out = nn.Linear(hidden, 9)
        self.drop = nn.Dropout(0.2)
        self.act = nn.GELU(approximate="tanh")
        with torch.no_grad():
            self.inp.weight.copy_(torch.from_numpy(arrays["w_in"]))
            self.inp.bias.copy_(torch.from_numpy(arrays["b_in"]))
            self.out.weight.copy_(torch.from_numpy(arrays["w_out"]))
            self.out.bias.copy_(torch.from_numpy(arrays["b_out"]))
            for k, conv in enumerate(self.convs):
                conv.weight.copy_(torch.from_numpy(arrays[f"w_conv{k}"]))
                assert conv.bias is not None
                conv.bias.copy_(torch.from_numpy(arrays[f"b_conv{k}"]))
        self.modules = nn.ModuleList([self.inp, *self.convs, self.out])

    def __call__(self, x: Any) -> Any:
        h = self.act(self.inp(self.drop(x)))
        for conv in self.convs:
            h = h + self.act(conv(self.drop(h).transpose(1, 2)).transpose(1, 2))
        return self.out(self.drop(h))

    def arrays(self) -> dict[str, npt.NDArray[np.float32]]:
        out = {
            "w_in": self.inp.weight.detach().numpy(),
            "b_in": self.inp.bias.detach().numpy(),
            "w_out": self.out.weight.detach().numpy(),
            "b_out": self.out.bias.detach().numpy(),
        }
        for k, conv in enumerate(self.convs):
            assert conv.bias is not None
            out[f"w_conv{k}"] = conv.weight.detach().numpy()
            out[f"b_conv{k}"] = conv.bias.detach().numpy()
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/attribution_cache"))
    parser.add_argument("--head", type=Path, required=True, help="a trained frozen-feature head")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr-layer", type=float, default=5e-5)
    parser.add_argument("--lr-head", type=float, default=3e-4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import torch
    from torch import nn

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    with np.load(args.head, allow_pickle=False) as data:
        base = {k: np.asarray(data[k], dtype=np.float32) for k in data.files}
    embedder = EmbeddingModel(locate_model(BUNDLED_EMBEDDING_MODEL))
    train_items = refresh_lexical(build("train", args.cache, None, None, 3))
    dev_items = refresh_lexical(build("dev", args.cache, None, None, 3))
    if args.train_limit:
        train_items = train_items[: args.train_limit]
    train_inputs = layer_inputs(embedder, train_items)
    dev_inputs = layer_inputs(embedder, dev_items)

    layer = copy.deepcopy(embedder.model.encoder.layer[LAYER])
    layer.train()
    head = Head(base)
    mean, std = torch.from_numpy(base["mean"]), torch.from_numpy(base["std"])
    use_rules = bool(base["use_rules"][0]) if "use_rules" in base else True
    optimizer = torch.optim.AdamW(
        [
            {"params": layer.parameters(), "lr": args.lr_layer},
            {"params": head.modules.parameters(), "lr": args.lr_head},
        ],
        weight_decay=1e-4,
    )
    weights = torch.tensor([1.0, 0.5, 0.5])

    def features(k: int, items: list[Item], inputs: list[list[Any]]) -> Any:
        lexical = items[k].lexical.copy()
        if not use_rules:
            lexical[:, 9:13] = 0.0
        x = torch.cat([run_layer(layer, inputs[k]), torch.from_numpy(lexical)], dim=1)
        return (x - mean) / std

    def dev_f1() -> float:
        layer.eval()
        head.modules.eval()
        head.drop.eval()
        tp = fp = fn = 0
        with torch.no_grad():
            for k, item in enumerate(dev_items):
                logits = head(features(k, dev_items, dev_inputs)[None])
                pred = logits.reshape(-1, 3, 3)[:, 0].argmax(-1).numpy() > 0
                gold = item.labels[:, 0] > 0
                tp += int((pred & gold).sum())
                fp += int((pred & ~gold).sum())
                fn += int((~pred & gold).sum())
        layer.train()
        head.modules.train()
        head.drop.train()
        return 2 * tp / max(1, 2 * tp + fp + fn)

    best = dev_f1()
    print(f"before tuning: dev content-token F1 {best:.4f}", flush=True)
    best_state = (copy.deepcopy(layer.state_dict()), head.arrays())
    for epoch in range(args.epochs):
        order = rng.permutation(len(train_items))
        started, total = time.perf_counter(), 0.0
        for step, k in enumerate(order):
            x = features(int(k), train_items, train_inputs)[None]
            y = torch.from_numpy(train_items[int(k)].labels.astype(np.int64))
            logits = head(x).reshape(-1, 3, 3)
            loss = sum(
                weights[h] * nn.functional.cross_entropy(logits[:, h], y[:, h]) for h in range(3)
            )
            loss.backward()  # type: ignore[union-attr]
            if step % 4 == 3:
                optimizer.step()
                optimizer.zero_grad()
            total += float(loss.detach())  # type: ignore[union-attr]
        f1 = dev_f1()
        print(
            f"epoch {epoch}: loss {total / len(order):.4f} dev content-token F1 {f1:.4f} "
            f"({time.perf_counter() - started:.0f}s)",
            flush=True,
        )
        if f1 > best:
            best = f1
            best_state = (copy.deepcopy(layer.state_dict()), head.arrays())
            np.savez(args.out.with_suffix(".epoch.npz"), allow_pickle=False, **best_state[1])
            torch.save(best_state[0], args.out.with_suffix(".epoch.pt"))
    layer.load_state_dict(best_state[0])
    layer.eval()
    arrays = dict(base)
    arrays.update({k: v.astype(np.float32) for k, v in best_state[1].items()})
    arrays.pop("decoding", None)
    for name, value in best_state[0].items():
        arrays[f"tuned.{LAYER}.{name}"] = value.detach().numpy()
    # stored as float16 (the file stays under 5 MB); decoding is chosen on the rounded weights
    arrays = {
        k: v.astype(np.float16) if v.size > 4096 else v.astype(np.float32)
        for k, v in arrays.items()
    }
    # dev features from the tuned layer, through the same code path the product uses
    tagger = AttributionTagger(
        {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}, source=embedder
    )
    tuned_dev = []
    for k, item in enumerate(dev_items):
        feats = tagger.features(item.article)
        with torch.no_grad():
            reference = run_layer(layer, dev_inputs[k]).numpy()
        if k == 0:
            print(
                "product/training feature max diff", float(np.abs(feats.hidden - reference).max())
            )
        tuned_dev.append(Item(item.doc, item.article, feats, item.lexical, item.labels))
    decoding = tune({k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}, tuned_dev)
    arrays["decoding"] = decoding.to_array()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, allow_pickle=False, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
