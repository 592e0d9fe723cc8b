"""Replaces the GlobalAveragePool over the constant QP plane of an exported `ours` ONNX graph by
a Slice of its first sample, as `cnnfilter/models/ours.py` now exports it.

The QP plane is constant, so both give the same value in exact arithmetic; the mean's float
sum depends on the picture size, the slice does not. With the slice, a region read with the
receptive-field halo gets the whole picture's samples bit for bit, which lets the decoder
filter only the flagged CTUs (docs/models.md, "Inference units"). Weights are unchanged.

    python tools/qp_first_sample.py models/ours-ai/ours.onnx
"""

import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def main(path: str) -> None:
    m = onnx.load(path)
    g = m.graph
    pools = [i for i, n in enumerate(g.node) if n.op_type == "GlobalAveragePool"]
    if len(pools) != 1:
        sys.exit(f"error: {path}: expected one GlobalAveragePool, found {len(pools)}")
    node = g.node[pools[0]]
    for name, v in (("qp_first_starts", [0, 0]), ("qp_first_ends", [1, 1]), ("axes23", [2, 3])):
        g.initializer.append(numpy_helper.from_array(np.array(v, np.int64), name))
    ins = [node.input[0], "qp_first_starts", "qp_first_ends", "axes23"]
    first = helper.make_node("Slice", ins, list(node.output), name="/QpFirstSample")
    g.node.remove(node)
    g.node.insert(pools[0], first)
    onnx.checker.check_model(m)
    onnx.save(m, path)


if __name__ == "__main__":
    main(sys.argv[1])
