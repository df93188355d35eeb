"""Members of one shape as one graph: their towers run as wide grouped convolutions.

The cpu-profile members are narrow (8-32 channels), too narrow to fill a CPU's vector units one
at a time. Members whose ONNX graphs have the same structure (same nodes, attributes and tensor
shapes; only the weights differ) are stacked along the channel axis, member after member: a
convolution's weights are concatenated along its output channels and its ``group`` multiplied by
the number of members, batch-norm parameters are concatenated, and per-channel operators
(activations, residual adds, squeeze-excite products, pools, spatial reductions) run once on the
stacked tensor. Where an operator is not per-channel (a concatenation along channels, a shape
read, a dense head) the stacked tensor is split back into the members' own, and each member goes
on alone. What all members compute alike from the inputs (the batch concatenation of ``xa`` and
``xb``) is computed once.

The fused graph has the members' inputs ``xa``/``xb`` and one output ``logits`` (N, members),
in the order the members were given. Its parity with the separate members is gated by whoever
uses it: the one-file export's gate (pairzoo.ensemble.export), the ensemble bench's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

OUTPUT = "logits"
# Operators that act on each channel alone, whatever the channel count: stacking keeps them exact.
UNARY = {
    "Relu", "Sigmoid", "Tanh", "LeakyRelu", "Elu", "Selu", "HardSigmoid", "HardSwish",
    "Softplus", "Identity", "Neg", "Abs", "Exp", "Sqrt", "Erf", "Gelu",
}  # fmt: skip
BINARY = {"Add", "Mul", "Sub", "Div"}
POOLS = {"GlobalAveragePool", "GlobalMaxPool", "MaxPool", "AveragePool"}
REDUCE = {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceL2", "ReduceLogSumExp"}
# Never computed once for all: each member draws its own numbers.
RANDOM = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Dropout"}


@dataclass
class _Graph:
    """One member's graph with lookups by name."""

    model: Any
    inits: dict[str, Any] = field(init=False)
    inputs: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.inits = {t.name: t for t in self.model.graph.initializer}
        self.inputs = [v.name for v in self.model.graph.input if v.name not in self.inits]


def signature(model: Any) -> str:
    """A hash of the graph's structure (nodes, attributes, wiring, weight shapes), not its weights."""
    from onnx import helper

    g = _Graph(model)
    produced: dict[str, tuple] = {}
    parts = [repr(g.inputs), repr([o.name for o in model.graph.output])]
    for i, node in enumerate(model.graph.node):
        refs = []
        for name in node.input:
            if name in produced:
                refs.append(produced[name])
            elif name in g.inits:
                t = g.inits[name]
                refs.append(("init", tuple(t.dims), t.data_type))
            else:
                refs.append(("in", name))
        attrs = []
        for a in sorted(node.attribute, key=lambda a: a.name):
            value = helper.get_attribute_value(a)
            if node.op_type == "Constant" and a.name == "value":
                value = (tuple(value.dims), value.data_type)
            attrs.append((a.name, repr(value)))
        parts.append(repr((node.op_type, node.domain, refs, attrs, len(node.output))))
        for j, out in enumerate(node.output):
            produced[out] = ("node", i, j)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def groups_of(models: Sequence[Any]) -> list[list[int]]:
    """Member indices grouped by signature, in the order each group first appears."""
    by_sig: dict[str, list[int]] = {}
    for i, m in enumerate(models):
        by_sig.setdefault(signature(m), []).append(i)
    return list(by_sig.values())


def fuse_members(models: Sequence[Any]) -> Any:
    """One ModelProto computing every member's logit: inputs xa/xb, output ``logits`` (N, len)."""
    import onnx
    from onnx import TensorProto, helper

    builder, columns = _build(models)
    cols = []
    for i in range(len(models)):
        col = f"col_{i}"
        builder.nodes.append(
            helper.make_node("Unsqueeze", [columns[i], "axis_1"], [col], name=f"col_{i}")
        )
        cols.append(col)
    builder.const("axis_1", np.array([1], dtype=np.int64))
    builder.nodes.append(helper.make_node("Concat", cols, [OUTPUT], axis=1, name="logits"))
    first = models[0]
    inputs = [v for v in first.graph.input if v.name in _Graph(first).inputs]
    output = helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", len(models)])
    graph = helper.make_graph(
        builder.nodes, "pairzoo_fused_members", inputs, [output], initializer=builder.inits
    )
    opset = max(o.version for m in models for o in m.opset_import if o.domain in ("", "ai.onnx"))
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        ir_version=max(m.ir_version for m in models),
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def stacked_operators(models: Sequence[Any]) -> int:
    """How many operators fusing `models` runs once for several members (0: it gains nothing)."""
    return _build(models)[0].stacked


def _build(models: Sequence[Any]) -> tuple[_Builder, dict[int, str]]:
    """Every group's nodes in one builder, and each member's logit tensor by member index."""
    if not models:
        raise ValueError("no members to fuse")
    builder = _Builder()
    columns: dict[int, str] = {}
    for gi, members in enumerate(groups_of(models)):
        outs = builder.add_group(f"g{gi}_", [_Graph(models[i]) for i in members])
        columns.update(zip(members, outs, strict=True))
    return builder, columns


class _Builder:
    """Emits the fused nodes and initializers of every group into one graph."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.stacked = 0  # operators run once on the stacked tensor of several members
        self._consts: set[str] = set()

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        if name not in self._consts:
            self._consts.add(name)
            self.inits.append(numpy_helper.from_array(value, name))
        return name

    def add_group(self, prefix: str, graphs: list[_Graph]) -> list[str]:
        """Emit one group (members of one signature); returns each member's logit tensor name."""
        return _Group(self, prefix, graphs).emit()


class _Group:
    """Classifies each tensor of a group's template graph as shared, stacked or per member."""

    def __init__(self, builder: _Builder, prefix: str, graphs: list[_Graph]) -> None:
        self.b, self.p, self.graphs, self.k = builder, prefix, graphs, len(graphs)
        self.shared: set[str] = set(graphs[0].inputs)  # computed once, under their own names
        self.stacked: dict[str, int] = {}  # name -> channels per member
        self.member: set[str] = set()  # computed by each member, under m{k}_ names
        self.splits: dict[str, list[str]] = {}

    def emit(self) -> list[str]:
        template = self.graphs[0].model.graph
        for i, node in enumerate(template.node):
            nodes = [g.model.graph.node[i] for g in self.graphs]
            if self.k > 1 and self._is_shared(nodes):
                self._emit_shared(node)
            elif self.k > 1 and (channels := self._stack_channels(nodes)) is not None:
                self._emit_stacked(nodes, channels)
            else:
                self._emit_per_member(nodes)
        outputs = []
        for k, g in enumerate(self.graphs):
            outputs.append(self._member_name(g.model.graph.output[0].name, k))
        return outputs

    # -- names --------------------------------------------------------------------------------
    def _shared_name(self, name: str) -> str:
        return name if name in self.graphs[0].inputs else f"{self.p}s_{name}"

    def _member_name(self, name: str, k: int) -> str:
        """Member k's own copy of tensor `name` (split off a stacked tensor where needed)."""
        if name in self.shared:
            return self._shared_name(name)
        if name in self.stacked:
            return self._split(name)[k]
        if name in self.graphs[k].inits and name not in self.member:
            return self._member_init(name, k)
        return f"{self.p}m{k}_{name}"

    def _member_init(self, name: str, k: int) -> str:
        from onnx import numpy_helper

        return self.b.const(
            f"{self.p}m{k}_{name}", numpy_helper.to_array(self.graphs[k].inits[name])
        )

    def _split(self, name: str) -> list[str]:
        from onnx import helper

        if name not in self.splits:
            c = self.stacked[name]
            sizes = self.b.const(f"{self.p}split_{c}x{self.k}", np.full(self.k, c, dtype=np.int64))
            outs = [f"{self.p}m{k}_{name}" for k in range(self.k)]
            self.b.nodes.append(
                helper.make_node(
                    "Split",
                    [self._stacked_name(name), sizes],
                    outs,
                    axis=1,
                    name=f"{self.p}split_{name}",
                )
            )
            self.splits[name] = outs
        return self.splits[name]

    def _stacked_name(self, name: str) -> str:
        return f"{self.p}x_{name}"

    # -- shared: the same value in every member -----------------------------------------------
    def _is_shared(self, nodes: list[Any]) -> bool:
        first = nodes[0]
        if first.op_type in RANDOM:
            return False
        if first.op_type == "Constant":
            return all(_same(_constant_array(n), _constant_array(first)) for n in nodes)
        for j, name in enumerate(first.input):
            if not name or name in self.shared:
                continue
            if name in self.graphs[0].inits:
                values = [
                    _init_array(g, n.input[j]) for g, n in zip(self.graphs, nodes, strict=True)
                ]
                if all(_same(v, values[0]) for v in values):
                    continue
            return False
        return True

    def _emit_shared(self, node: Any) -> None:
        from onnx import numpy_helper

        inputs = []
        for name in node.input:
            if name in self.graphs[0].inits and name not in self.shared:
                arr = numpy_helper.to_array(self.graphs[0].inits[name])
                name_s = self.b.const(f"{self.p}s_{name}", arr)
                inputs.append(name_s)
            else:
                inputs.append(self._shared_name(name) if name else "")
        self.b.nodes.append(
            _copy(node, inputs, [self._shared_name(o) for o in node.output], f"{self.p}s_")
        )
        self.shared.update(node.output)

    # -- stacked: one wide operator for all members --------------------------------------------
    def _stack_channels(self, nodes: list[Any]) -> int | None:
        """Channels per member of the node's stacked output, or None where it cannot stack."""
        node, g0 = nodes[0], self.graphs[0]
        op, ins = node.op_type, list(node.input)
        if len(node.output) != 1 or not ins:
            return None
        x = ins[0]
        if op == "Conv" and len(ins) >= 2 and ins[1] in g0.inits:
            group = _attr(node, "group", 1)
            if x in self.stacked or (x in self.shared and group == 1):
                return int(g0.inits[ins[1]].dims[0])
            return None
        if x not in self.stacked:
            return None
        c = self.stacked[x]
        if op == "BatchNormalization":
            return c if all(n in g0.inits for n in ins[1:5]) and len(ins) == 5 else None
        if op in UNARY or op in POOLS:
            return c if len(ins) == 1 else None
        if op in BINARY and len(ins) == 2:
            other = ins[1]
            if other in self.stacked and self.stacked[other] == c:
                return c
            if other in g0.inits and _scalar_everywhere(self.graphs, nodes, 1):
                return c
            return None
        if op in REDUCE and len(ins) == 1:
            axes = _attr(node, "axes", None)
            return c if axes is not None and all(a >= 2 for a in axes) else None
        return None

    def _emit_stacked(self, nodes: list[Any], channels: int) -> None:
        node, g0 = nodes[0], self.graphs[0]
        out = node.output[0]
        inputs = []
        for j, name in enumerate(node.input):
            if name in self.stacked:
                inputs.append(self._stacked_name(name))
            elif name in self.shared:
                inputs.append(self._shared_name(name))
            elif name in g0.inits:
                arrays = [
                    _init_array(g, n.input[j]) for g, n in zip(self.graphs, nodes, strict=True)
                ]
                if arrays[0].ndim == 0 or arrays[0].size == 1:  # a scalar, equal in every member
                    value = arrays[0]
                else:
                    value = np.concatenate(arrays, axis=0)
                inputs.append(self.b.const(f"{self.p}x_{name}", value))
            else:
                raise AssertionError(f"{name} is neither stacked, shared nor a weight")
        fused = _copy(node, inputs, [self._stacked_name(out)], f"{self.p}x_")
        if node.op_type == "Conv" and node.input[0] in self.stacked:
            for a in fused.attribute:
                if a.name == "group":
                    a.i *= self.k
                    break
            else:
                fused.attribute.append(_group_attribute(self.k))
        self.b.nodes.append(fused)
        self.b.stacked += 1
        self.stacked[out] = channels

    # -- per member: each member alone ---------------------------------------------------------
    def _emit_per_member(self, nodes: list[Any]) -> None:
        for k, node in enumerate(nodes):
            inputs = [self._member_name(n, k) if n else "" for n in node.input]
            outputs = [f"{self.p}m{k}_{o}" for o in node.output]
            self.b.nodes.append(_copy(node, inputs, outputs, f"{self.p}m{k}_"))
        self.member.update(nodes[0].output)


def _copy(node: Any, inputs: list[str], outputs: list[str], prefix: str) -> Any:
    from onnx import NodeProto

    new = NodeProto()
    new.CopyFrom(node)
    del new.input[:]
    new.input.extend(inputs)
    del new.output[:]
    new.output.extend(outputs)
    new.name = prefix + (node.name or outputs[0])
    return new


def _group_attribute(k: int) -> Any:
    from onnx import helper

    return helper.make_attribute("group", k)


def _attr(node: Any, name: str, default: Any) -> Any:
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _init_array(graph: _Graph, name: str) -> np.ndarray:
    from onnx import numpy_helper

    return numpy_helper.to_array(graph.inits[name])


def _constant_array(node: Any) -> np.ndarray | None:
    from onnx import numpy_helper

    value = _attr(node, "value", None)
    return None if value is None else numpy_helper.to_array(value)


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return False
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def _scalar_everywhere(graphs: list[_Graph], nodes: list[Any], j: int) -> bool:
    """Input j is a one-element weight with the same value in every member."""
    values = [_init_array(g, n.input[j]) for g, n in zip(graphs, nodes, strict=True)]
    return values[0].size == 1 and all(_same(v, values[0]) for v in values)


def fused_logits(session: Any, x: np.ndarray, batch_size: int, workers: int = 1) -> np.ndarray:
    """A fused graph's session over uint8 pairs `x` (N, 28, 56): float32 (N, members).

    With ``workers > 1`` batches run concurrently in threads (onnxruntime releases the GIL).
    """
    from concurrent.futures import ThreadPoolExecutor

    from pairzoo.runtime.batches import split_batch

    def run(start: int) -> np.ndarray:
        xa, xb = split_batch(x[start : start + batch_size])
        return session.run([OUTPUT], {"xa": xa, "xb": xb})[0]

    starts = range(0, len(x), batch_size)
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(run, starts))
    else:
        parts = [run(s) for s in starts]
    return np.concatenate(parts).astype(np.float32, copy=False)
