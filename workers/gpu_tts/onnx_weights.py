"""Reads the weights out of Kokoro's int8 ONNX export (onnxruntime dynamic quantisation).

Linear layers are ``MatMulInteger`` with int8 weights [in, out] and a per-column scale; convolutions
are ``ConvInteger`` with uint8 weights, a per-tensor scale and a zero point (weight-norm already
folded); LSTMs are ``DynamicQuantizeLSTM``; embeddings are int8 gathered then dequantised. Each
weight's meaning comes from the name of the node that consumes it, a path like
``/encoder/F0.0/conv1/Conv_quant``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class QuantOp:
    """One quantised operator and its weights dequantised to float32."""

    node: object  # onnx.NodeProto
    weights: list[np.ndarray]  # as the float op would take them (ONNX layouts)


class OnnxWeights:
    def __init__(self, path: Path) -> None:
        import onnx
        from onnx import numpy_helper

        self.model = onnx.load(str(path))
        self.graph = self.model.graph
        self.arrays = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}

    def _dequant(self, q_name: str, zero_point_name: str, scale_name: str | None = None) -> np.ndarray:
        q = self.arrays[q_name].astype(np.float32)
        zp = self.arrays[zero_point_name].astype(np.float32)
        scale = self.arrays[scale_name or q_name.removesuffix("_quantized") + "_scale"].astype(np.float32)
        return (q - zp) * scale

    def quant_ops(self) -> list[QuantOp]:
        """Every quantised matmul, convolution and LSTM, with float weights in ONNX layout."""
        ops = []
        for node in self.graph.node:
            if node.op_type in ("MatMulInteger", "ConvInteger"):
                ops.append(QuantOp(node, [self._dequant(node.input[1], node.input[3])]))
            elif node.op_type == "DynamicQuantizeLSTM":
                w = self._dequant_lstm(node.input[1], node.input[8], node.input[9])
                r = self._dequant_lstm(node.input[2], node.input[10], node.input[11])
                ops.append(QuantOp(node, [w, r, self.arrays[node.input[3]]]))
        return ops

    def _dequant_lstm(self, q: str, scale: str, zero_point: str) -> np.ndarray:
        """[dirs, in, 4H] int8 with per-direction scale -> ONNX LSTM layout [dirs, 4H, in]."""
        w = self.arrays[q].astype(np.float32) - self.arrays[zero_point].astype(np.float32)[:, None, None]
        w = w * self.arrays[scale].astype(np.float32)[:, None, None]
        return np.ascontiguousarray(w.transpose(0, 2, 1))

    def embeddings(self) -> dict[str, np.ndarray]:
        """Dequantised embedding tables, keyed by their initializer base name."""
        out = {}
        for node in self.graph.node:
            if node.op_type == "DequantizeLinear" and node.name.endswith("Gather_quant_DequantizeLinear"):
                gather = node.name.removesuffix("_DequantizeLinear")
                table = next(n.input[0] for n in self.graph.node if n.name == gather)
                out[table.removesuffix("_quantized")] = self._dequant(table, node.input[2], node.input[1])
        return out

    def float_weight_consumers(self) -> dict[str, object]:
        """Float weights of ConvTranspose/Conv/MatMul nodes whose names are graph-internal."""
        out = {}
        for node in self.graph.node:
            if (
                node.op_type in ("ConvTranspose", "Conv", "MatMul")
                and len(node.input) > 1
                and node.input[1] in self.arrays
            ):
                out[node.input[1]] = node
        return out
