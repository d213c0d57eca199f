"""Converts Kokoro's int8 ONNX export into a PyTorch state dict for ``kokoro_torch.KokoroModel``.

Dequantises every int8/uint8 weight, repacks LSTM gates (ONNX i,o,f,c -> torch i,f,g,o), turns
[in, out] matmul weights into Linear's [out, in], and names each tensor after the module that
consumes it in the graph. Weight-norm is already folded in the export, so convolutions take the
folded weight as is. Strict: every tensor of the module is filled exactly once, with its shape.

A pure converter (paths in, state dict out): ``assets.ensure_torch_weights`` calls it on first
use, and ``python -m workers.gpu_tts.convert_cli`` runs it from the command line (setup does).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import torch

from workers.gpu_tts.onnx_weights import OnnxWeights

log = logging.getLogger(__name__)

WEIGHTS_FILE = "kokoro-v1.0.pt"

_RENAMES = [
    (r"_\d+(?=\.|$)", ""),  # repeated ALBERT passes: attention_3 -> attention
    (r"^decoder\.decoder\.", "decoder."),
    (r"^encoder\.(F0|N|F0_proj|N_proj|shared)(?=\.|$)", r"predictor.\1"),
    (r"^encoder\.", ""),
    (r"^bert\.encoder\.albert_layer_groups\.0\.albert_layers\.0\.", "bert.layer."),
    (r"^bert\.encoder\.embedding_hidden_mapping_in", "bert.embedding_hidden_mapping_in"),
    (r"^text_encoder\.cnn\.\d+\.cnn\.", "text_encoder.cnn."),
    (r"^text_encoder\.cnn\.(\d+)\.0", r"text_encoder.convs.\1"),
    (r"^text_encoder\.cnn\.(\d+)\.1", r"text_encoder.norms.\1"),
    (r"duration_proj\.linear_layer", "duration_proj"),
    (r"asr_res\.asr_res\.0|asr_res\.0", "asr_res"),
    (r"m_source\.l_linear", "source_linear"),
    (r"generator\.stft\.istft\.stft\.inverse_basis", "generator.istft_basis"),
    (r"generator\.stft\.istft\.stft\.window_sum", "generator.window_sum"),
]


def torch_name(onnx_name: str) -> str:
    """An ONNX initializer name or node scope (``/a/b/Op``) -> the torch module/parameter path."""
    name = onnx_name
    if name.startswith("/"):
        name = ".".join(name.strip("/").split("/")[:-1])
    for pattern, replacement in _RENAMES:
        name = re.sub(pattern, replacement, name)
    return name


def _lstm_tensors(prefix: str, w: np.ndarray, r: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    hidden = r.shape[-1]
    order = np.concatenate([np.arange(k * hidden, (k + 1) * hidden) for k in (0, 2, 3, 1)])  # iofc -> ifco
    out = {}
    for direction, suffix in enumerate(("", "_reverse")):
        out[f"{prefix}.weight_ih_l0{suffix}"] = w[direction][order]
        out[f"{prefix}.weight_hh_l0{suffix}"] = r[direction][order]
        out[f"{prefix}.bias_ih_l0{suffix}"] = b[direction, : 4 * hidden][order]
        out[f"{prefix}.bias_hh_l0{suffix}"] = b[direction, 4 * hidden :][order]
    return out


def extract(onnx_path: Path) -> dict[str, np.ndarray]:
    """All weights of the export under torch names (before any shape checks)."""
    src = OnnxWeights(onnx_path)
    found: dict[str, np.ndarray] = {}

    def put(name: str, value: np.ndarray) -> None:
        if name in found:  # ALBERT reuses one layer: its copies must agree
            if not np.array_equal(found[name], value):
                raise ValueError(f"conflicting values for {name}")
            return
        found[name] = np.ascontiguousarray(value, dtype=np.float32)

    for op in src.quant_ops():
        module = torch_name(op.node.name)
        if op.node.op_type == "MatMulInteger":
            put(f"{module}.weight", op.weights[0].T)
        elif op.node.op_type == "ConvInteger":
            put(f"{module}.weight", op.weights[0])
        else:
            for name, value in _lstm_tensors(module, *op.weights).items():
                put(name, value)
    for table, value in src.embeddings().items():
        put(torch_name(table), value)
    for weight, node in src.float_weight_consumers().items():
        if "/istft/" in node.name:  # the inverse-STFT basis, kept under its own name below
            continue
        value = src.arrays[weight]
        put(f"{torch_name(node.name)}.weight", value.T if node.op_type == "MatMul" else value)
    for name, value in src.arrays.items():
        if value.dtype == np.float32 and not name.startswith(("/", "onnx::")) and not name.endswith("_scale"):
            put(torch_name(name), value)
    return found


def build_state_dict(onnx_path: Path) -> dict[str, torch.Tensor]:
    """The strict state dict for KokoroModel: every tensor present once, with the right shape."""
    from workers.gpu_tts.kokoro_torch import KokoroModel

    expected = KokoroModel().state_dict()
    found = extract(onnx_path)
    state: dict[str, torch.Tensor] = {}
    missing = []
    for name, tensor in expected.items():
        value = found.pop(name, None)
        if value is None:
            missing.append(name)
            continue
        if tuple(value.shape) != tuple(tensor.shape):
            value = value.reshape(tensor.shape) if value.size == tensor.numel() else value
            if tuple(value.shape) != tuple(tensor.shape):
                raise ValueError(f"{name}: export has {value.shape}, module wants {tuple(tensor.shape)}")
        state[name] = torch.from_numpy(value.copy())
    unused = sorted(n for n in found if not n.endswith(("bias_quantized", "_reshape_shape")))
    if missing or unused:
        raise ValueError(f"weights missing: {missing[:20]} (of {len(missing)}); not placed: {unused[:20]}")
    return state


def convert(onnx_path: Path, out_path: Path) -> Path:
    state = build_state_dict(onnx_path)
    tmp = out_path.with_suffix(".partial")
    torch.save(state, tmp)
    tmp.replace(out_path)
    log.info(
        "wrote %d tensors (%.1fM values) to %s", len(state), sum(t.numel() for t in state.values()) / 1e6, out_path
    )
    return out_path
