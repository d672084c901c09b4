"""Tiny ONNX YOLO models built in code, whose output is known: they stand in for a user's own export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INPUT = 128  # the models' square input size
PERSON, BAG = 0, 1
# Candidates in network input pixels: (cx, cy, w, h), best class, its score.
CANDIDATES = [
    ((64.0, 64.0, 20.0, 40.0), PERSON, 0.9),  # a person
    ((66.0, 65.0, 20.0, 40.0), PERSON, 0.8),  # the same person again, for NMS to remove
    ((100.0, 60.0, 16.0, 30.0), BAG, 0.95),  # not a person
    ((20.0, 70.0, 16.0, 30.0), PERSON, 0.05),  # too unsure
    ((120.0, 40.0, 30.0, 40.0), PERSON, 0.7),  # a person cut by the right edge
    ((float("nan"), 40.0, 30.0, 40.0), PERSON, 0.6),  # a broken candidate
]
# Empty candidates after those, so that (as in real models) there are more candidates than
# values per candidate and the layout can be told from the output shape.
FILLERS = 10


def candidate_arrays() -> tuple[np.ndarray, np.ndarray]:
    boxes = np.zeros((len(CANDIDATES) + FILLERS, 4), dtype=np.float32)
    boxes[: len(CANDIDATES)] = [c[0] for c in CANDIDATES]
    classes = np.zeros((len(boxes), 2), dtype=np.float32)
    classes[: len(CANDIDATES)] = 0.01
    for i, (_, cls, score) in enumerate(CANDIDATES):
        classes[i, cls] = score
    return boxes, classes


def write_yolo_model(path: Path, layout: str, *, size: int | str = INPUT, opset: int = 13) -> Path:
    """A model that ignores its input except for one factor: the brightest red in the image.

    Class scores (yolov8) or objectness (yolov5) are multiplied by the maximum of the input's first
    channel, so a pure red frame, read as RGB and scaled to [0, 1], gives exactly the scores above,
    and a blue one gives none.
    """
    boxes, classes = candidate_arrays()
    n = len(boxes)
    red = [
        helper.make_node("Gather", ["images", "channel0"], ["red"], axis=1),
        helper.make_node("ReduceMax", ["red"], ["redmax"], keepdims=0),
    ]
    if layout == "yolov8":
        consts = {"boxes": boxes.T[None], "classes": classes.T[None]}
        nodes = [
            helper.make_node("Mul", ["classes", "redmax"], ["scaled"]),
            helper.make_node("Concat", ["boxes", "scaled"], ["output0"], axis=1),
        ]
        out_shape = [1, 4 + classes.shape[1], n]
    else:
        objectness = np.ones((1, n, 1), dtype=np.float32)
        # Split each score into objectness x class probability, as YOLOv5 heads do.
        consts = {"boxes": boxes[None], "objectness": objectness * 0.5, "classes": (classes * 2.0)[None]}
        nodes = [
            helper.make_node("Mul", ["objectness", "redmax"], ["scaled"]),
            helper.make_node("Concat", ["boxes", "scaled", "classes"], ["output0"], axis=2),
        ]
        out_shape = [1, n, 5 + classes.shape[1]]
    initializers = [numpy_helper.from_array(v, name=k) for k, v in consts.items()]
    initializers.append(numpy_helper.from_array(np.asarray(0, dtype=np.int64), name="channel0"))
    graph = helper.make_graph(
        red + nodes,
        f"tiny-{layout}",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, out_shape)],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
