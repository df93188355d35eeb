"""Does fusing narrow members into wide operators pay on this CPU? Three layouts of one conv stack.

M copies of a ResNet-[2,2,2]-at-1/8-width-like stack (3x3 convs at 8, 16 and 32 channels, ReLU,
global average pool; batch norm folded away) run through onnxruntime as
(a) M separate sessions, one after another,
(b) one graph whose convolutions are grouped (``group = M``, the members' weights stacked along
    the output channels; the first conv over the shared input is dense),
(c) one graph with block-diagonal dense convolutions (zeros between members),
at batch 256 pairs (512 tower inputs), intra-op threads 1 and 2, best of interleaved rounds.
If onnxruntime's CPU grouped conv loops over the groups, (b) gains only the launch overhead.
Where OpenVINO is installed, (a) and (b) also run in it (its oneDNN kernels may not loop).
"""

from __future__ import annotations

import json
import time

import numpy as np

M = 8
PAIRS = 256
ROUNDS = 3
STACK = [(1, 8, 1)] + [(8, 8, 1)] * 4 + [(8, 16, 2)] + [(16, 16, 1)] * 3
STACK += [(16, 32, 2)] + [(32, 32, 1)] * 3  # (cin, cout, stride)


def conv_weights(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """One member's (weight, bias) per conv, He-scaled so activations stay finite."""
    out = []
    for cin, cout, _ in STACK:
        w = rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(2 / (9 * cin))
        out.append((w.astype(np.float32), (rng.standard_normal(cout) * 0.1).astype(np.float32)))
    return out


def stack_graph(layers: list[tuple[np.ndarray, np.ndarray, int, int]], name: str):
    """An ONNX model: input x (N,1,28,28) -> conv/ReLU per (weight, bias, stride, group) -> GAP."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, x = [], [], "x"
    for i, (w, b, stride, group) in enumerate(layers):
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes.append(
            helper.make_node(
                "Conv",
                [x, f"w{i}", f"b{i}"],
                [f"c{i}"],
                kernel_shape=[3, 3],
                pads=[1, 1, 1, 1],
                strides=[stride, stride],
                group=group,
            )
        )
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        x = f"r{i}"
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, None)],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def layouts(members: list[list[tuple[np.ndarray, np.ndarray]]]) -> dict[str, list]:
    """{layout: [ModelProto, ...]}: separate, grouped and block-diagonal forms of `members`."""
    strides = [s for _, _, s in STACK]
    separate = [
        stack_graph([(w, b, s, 1) for (w, b), s in zip(m, strides, strict=True)], f"m{j}")
        for j, m in enumerate(members)
    ]
    grouped, dense = [], []
    for i, s in enumerate(strides):
        ws = [m[i][0] for m in members]
        bias = np.concatenate([m[i][1] for m in members])
        stacked = np.concatenate(ws)
        if i == 0:  # the first conv reads the one shared input channel: dense in both forms
            grouped.append((stacked, bias, s, 1))
            dense.append((stacked, bias, s, 1))
            continue
        grouped.append((stacked, bias, s, len(members)))
        cout, cin = ws[0].shape[:2]
        block = np.zeros((len(ws) * cout, len(ws) * cin, 3, 3), np.float32)
        for j, w in enumerate(ws):
            block[j * cout : (j + 1) * cout, j * cin : (j + 1) * cin] = w
        dense.append((block, bias, s, 1))
    return {
        "separate": separate,
        "grouped": [stack_graph(grouped, "grouped")],
        "block_diagonal": [stack_graph(dense, "block_diagonal")],
    }


def open_forms(forms: dict[str, list]) -> dict[tuple[str, int], list]:
    """{(layout, threads): sessions} in onnxruntime, and in OpenVINO where it is installed."""
    import dataclasses

    from pairzoo.runtime.backends import open_runtime, unavailable
    from pairzoo.runtime.runtimes import get_runtime

    ov = get_runtime("openvino-fp32")
    reason = unavailable(ov)
    if reason:
        print(f"OpenVINO skipped: {reason}", flush=True)
    runtimes = {"": get_runtime("ort"), **({} if reason else {"-openvino": ov})}
    sessions = {}
    for threads in (1, 2):
        for suffix, runtime in runtimes.items():
            runtime = dataclasses.replace(runtime, threads=threads)
            for name, protos in forms.items():
                if suffix and name == "block_diagonal":
                    continue  # 6x slower in onnxruntime: not worth the minutes
                opened = [open_runtime(p.SerializeToString(), runtime) for p in protos]
                sessions[(name + suffix, threads)] = opened
    return sessions


def main() -> None:
    from pairzoo.machine import this_cpu

    rng = np.random.default_rng(0)
    members = [conv_weights(rng) for _ in range(M)]
    x = rng.random((2 * PAIRS, 1, 28, 28), dtype=np.float32)
    forms = layouts(members)
    sessions, best = open_forms(forms), {}
    ref = _run(sessions[("separate", 1)], x)
    names = list(dict.fromkeys(name for name, _ in sessions))
    for name in names:
        diff = float(np.abs(_run(sessions[(name, 1)], x) - ref).max())
        print(f"{name}: max |diff| against separate {diff:.2g}", flush=True)
    for _ in range(ROUNDS):  # interleaved: the machine may be shared
        for key, group in sessions.items():
            t0 = time.perf_counter()
            _run(group, x)
            best[key] = min(best.get(key, np.inf), time.perf_counter() - t0)
    record = {"cpu": this_cpu().describe(), "members": M, "pairs": PAIRS, "rounds": ROUNDS}
    for threads in (1, 2):
        base = best[("separate", threads)]
        for name in names:
            t = best[(name, threads)]
            record[f"{name}_t{threads}_pairs_per_s"] = round(PAIRS / t, 1)
            print(
                f"{name:>24}, {threads} thread(s): {PAIRS / t:8.1f} pairs/s "
                f"({base / t:.2f}x separate)",
                flush=True,
            )
    print(json.dumps(record))


def _run(sessions: list, x: np.ndarray) -> np.ndarray:
    outs = [s.run(["pooled"], {"x": x})[0] for s in sessions]
    return np.concatenate([o.reshape(len(x), -1) for o in outs], axis=1)


if __name__ == "__main__":
    main()
