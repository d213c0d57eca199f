"""A float twin of Kokoro's int8 ONNX export, used as the reference for the PyTorch port.

The int8 graph quantises activations on the fly, which moves a few phoneme durations by a frame,
so the torch model (float weights, float activations) is compared with this graph instead: the
same export with every quantised matmul, convolution and LSTM replaced by its float op on the
dequantised weights, and the predicted durations exposed as a second output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workers.gpu_tts.onnx_weights import OnnxWeights

DURATION_OUTPUT = "/encoder/Clip_output_0"


def _follow(consumers: dict[str, list], name: str, op_types: tuple[str, ...]) -> list:
    """The chain of single consumers of ``name`` whose op types are ``op_types``, in order."""
    chain = []
    for op_type in op_types:
        nxt = [n for n in consumers.get(name, []) if n.op_type == op_type]
        if len(nxt) != 1:
            return []
        chain.append(nxt[0])
        name = nxt[0].output[0]
    return chain


def float_model(onnx_path: Path):
    """The dequantised graph as an onnx.ModelProto, with outputs (audio, durations)."""
    from onnx import TensorProto, helper, numpy_helper

    src = OnnxWeights(onnx_path)
    graph = src.graph
    producers = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list] = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    removed: set[int] = set()
    added, new_inits = [], []
    for k, op in enumerate(src.quant_ops()):
        node = op.node
        weight_names = [f"float_weight_{k}_{j}" for j in range(len(op.weights))]
        new_inits += [
            numpy_helper.from_array(w.astype(np.float32), n) for w, n in zip(op.weights, weight_names, strict=True)
        ]
        if node.op_type == "DynamicQuantizeLSTM":
            inputs = [node.input[0], *weight_names, *node.input[4:8]]
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            attrs = {k2: (v.decode() if isinstance(v, bytes) else v) for k2, v in attrs.items()}
            added.append(helper.make_node("LSTM", inputs, list(node.output), name=node.name + "_float", **attrs))
            removed.add(id(node))
            continue
        x = producers[node.input[0]].input[0]  # the float input of the DynamicQuantizeLinear
        chain = _follow(consumers, node.output[0], ("Add", "Cast", "Mul")) or _follow(
            consumers, node.output[0], ("Cast", "Mul")
        )
        if not chain:
            raise ValueError(f"unexpected pattern after {node.name}")
        out = chain[-1].output[0]
        if node.op_type == "MatMulInteger":
            added.append(helper.make_node("MatMul", [x, weight_names[0]], [out], name=node.name + "_float"))
        else:
            inputs = [x, weight_names[0]]
            if chain[0].op_type == "Add":
                inputs.append(chain[0].name.removesuffix("_quantizedbias_add"))
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            attrs = {k2: (v.decode() if isinstance(v, bytes) else v) for k2, v in attrs.items()}
            added.append(helper.make_node("Conv", inputs, [out], name=node.name + "_float", **attrs))
        removed.update(id(n) for n in (node, *chain))

    kept = [n for n in graph.node if id(n) not in removed] + added
    del graph.node[:]
    graph.node.extend(_topological(kept))
    graph.initializer.extend(new_inits)
    graph.output.append(helper.make_tensor_value_info(DURATION_OUTPUT, TensorProto.FLOAT, None))
    return src.model


def _topological(nodes: list) -> list:
    """Order nodes so every input is produced before use (the float ops were appended last)."""
    produced_by = {o: n for n in nodes for o in n.output}
    ordered, done = [], set()

    def visit(n) -> None:
        stack = [(n, False)]
        while stack:
            cur, expanded = stack.pop()
            if id(cur) in done:
                continue
            if expanded:
                done.add(id(cur))
                ordered.append(cur)
                continue
            stack.append((cur, True))
            for i in cur.input:
                dep = produced_by.get(i)
                if dep is not None and id(dep) not in done:
                    stack.append((dep, False))

    for n in nodes:
        visit(n)
    return ordered


class FloatReference:
    """onnxruntime on the float twin: (audio, durations) for one utterance."""

    def __init__(self, onnx_path: Path) -> None:
        import onnxruntime as ort

        model = float_model(onnx_path)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep float math as written
        self.session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])

    def run(self, ids: list[int], style: np.ndarray, speed: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        audio, durations = self.session.run(
            None,
            {
                "tokens": np.array([ids], dtype=np.int64),
                "style": np.asarray(style, dtype=np.float32).reshape(1, -1),
                "speed": np.array([speed], dtype=np.float32),
            },
        )
        return np.asarray(audio, dtype=np.float32).ravel(), np.asarray(durations).ravel().astype(np.int64)
