"""Box arithmetic: IoU, NMS with containment, clipping."""

from __future__ import annotations

import numpy as np
import pytest

from reid_engine.detect.boxes import clip_boxes, iou_matrix, nms


def test_iou_of_identical_disjoint_and_half_overlapping_boxes() -> None:
    a = np.array([[0, 0, 10, 10]], dtype=np.float32)
    b = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [5, 0, 15, 10]], dtype=np.float32)
    np.testing.assert_allclose(iou_matrix(a, b), [[1.0, 0.0, 5 / 15]])


def test_iou_of_degenerate_boxes_is_zero_not_nan() -> None:
    z = np.zeros((2, 4), dtype=np.float32)
    assert np.array_equal(iou_matrix(z, z), np.zeros((2, 2)))
    assert iou_matrix(np.zeros((0, 4)), z).shape == (0, 2)


def test_nms_keeps_the_best_of_overlapping_boxes_and_all_separate_ones() -> None:
    boxes = np.array([[0, 0, 10, 20], [1, 1, 11, 21], [50, 0, 60, 20]], dtype=np.float32)
    keep = nms(boxes, np.array([0.6, 0.9, 0.5]), iou_threshold=0.5)
    assert keep.tolist() == [1, 2]


def test_nms_containment_removes_a_box_nested_in_a_stronger_one() -> None:
    boxes = np.array([[0, 0, 40, 80], [10, 10, 30, 50]], dtype=np.float32)
    scores = np.array([0.9, 0.4])
    assert nms(boxes, scores, iou_threshold=0.5).tolist() == [0, 1]
    assert nms(boxes, scores, iou_threshold=0.5, containment_threshold=0.8).tolist() == [0]


def test_nms_breaks_ties_by_input_order_and_handles_no_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], dtype=np.float32)
    assert nms(boxes, np.array([0.5, 0.5]), iou_threshold=0.5).tolist() == [0]
    assert nms(np.zeros((0, 4)), np.zeros(0), iou_threshold=0.5).tolist() == []
    with pytest.raises(ValueError, match="scores"):
        nms(boxes, np.zeros(3), iou_threshold=0.5)


def test_clip_boxes_keeps_boxes_inside_the_frame_and_ordered() -> None:
    boxes = np.array([[-5, -5, 20, 300], [90, 10, 120, 20]], dtype=np.float64)
    clipped = clip_boxes(boxes, width=100, height=200)
    assert clipped.dtype == np.float32
    np.testing.assert_array_equal(clipped, [[0, 0, 20, 200], [90, 10, 100, 20]])
