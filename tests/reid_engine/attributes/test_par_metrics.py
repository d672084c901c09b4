"""PAR metrics: hand-worked examples, masks and edge cases, a brute-force cross-check, the schema's
multi-hot view and the predictions file round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reid_engine.attributes import SCHEMA
from reid_engine.attributes.metrics import (
    heads_to_multi_hot,
    load_predictions,
    multi_hot_labels,
    multi_hot_names,
    par_metrics,
    predict_multi_hot,
    save_predictions,
)

# Four instances, three labels.
GT = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 0]], bool)
PRED = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]], bool)


def test_unmasked_example_matches_the_hand_arithmetic() -> None:
    m = par_metrics(PRED, GT, names=("a", "b", "c"))
    # Label a: positives r0, r2 both hit -> TPR 1; negatives r1, r3 both 0 -> TNR 1; mA 1.
    # Label b: positives r1, r2 -> one hit, TPR 1/2; negatives r0, r3 -> r0 wrong, TNR 1/2; mA 1/2.
    # Label c: positive r0 missed -> TPR 0; negatives r1, r2, r3 -> r3 wrong, TNR 2/3; mA 1/3.
    np.testing.assert_allclose(m.positive_recall, [1, 0.5, 0])
    np.testing.assert_allclose(m.negative_recall, [1, 0.5, 2 / 3])
    np.testing.assert_allclose(m.label_mA, [1, 0.5, 1 / 3])
    assert m.mA == pytest.approx((1 + 0.5 + 1 / 3) / 3)  # 11/18
    # r0: P={a,b} G={a,c}: |P∩G|=1, |P∪G|=3 -> acc 1/3, prec 1/2, rec 1/2.
    # r1: P=G={b} -> 1, 1, 1.
    # r2: P={a} G={a,b} -> acc 1/2, prec 1, rec 1/2.
    # r3: P={c} G={} -> acc 0/1 = 0, prec 0/1 = 0, rec undefined (skipped).
    assert m.accuracy == pytest.approx((1 / 3 + 1 + 1 / 2 + 0) / 4)  # 11/24
    assert m.precision == pytest.approx((1 / 2 + 1 + 1 + 0) / 4)  # 5/8
    assert m.recall == pytest.approx((1 / 2 + 1 + 1 / 2) / 3)  # 2/3
    # F1 from the averaged precision and recall: 2 * 5/8 * 2/3 / (5/8 + 2/3) = 20/31.
    assert m.f1 == pytest.approx(20 / 31)
    assert (m.num_labels_scored, m.num_instances_scored) == (3, 4)
    assert m.per_label()["b"]["num_positive"] == 2


def test_zero_convention_scores_the_empty_ground_truth_instance_as_zero_recall() -> None:
    m = par_metrics(PRED, GT, undefined="zero")
    # Only r3's recall changes: 0 instead of skipped -> (1/2 + 1 + 1/2 + 0) / 4 = 1/2.
    assert m.recall == pytest.approx(0.5)
    assert m.accuracy == pytest.approx(11 / 24)
    assert m.precision == pytest.approx(5 / 8)
    assert m.f1 == pytest.approx(2 * (5 / 8) * 0.5 / (5 / 8 + 0.5))  # 5/9
    assert m.mA == pytest.approx(11 / 18)  # every label has positives and negatives


def test_masked_entries_count_nowhere() -> None:
    mask = np.ones_like(GT)
    mask[0, 1] = False  # r0's wrong "b" prediction
    mask[3, 2] = False  # r3's wrong "c" prediction
    m = par_metrics(PRED, GT, mask)
    # Label b: positives r1, r2 -> TPR 1/2; negatives now only r3 -> TNR 1; mA 3/4.
    # Label c: positive r0 missed -> TPR 0; negatives r1, r2 -> TNR 1; mA 1/2.
    np.testing.assert_allclose(m.label_mA, [1, 0.75, 0.5])
    assert m.mA == pytest.approx(0.75)
    np.testing.assert_array_equal(m.num_negative, [2, 1, 2])
    # r0: P={a} G={a,c} -> acc 1/2, prec 1, rec 1/2.  r3: P = G = {} -> skipped everywhere.
    assert m.accuracy == pytest.approx((1 / 2 + 1 + 1 / 2) / 3)
    assert m.precision == pytest.approx(1.0)
    assert m.recall == pytest.approx(2 / 3)
    assert m.f1 == pytest.approx(0.8)
    assert m.num_instances_scored == 4
    z = par_metrics(PRED, GT, mask, undefined="zero")
    # r3 now scores 0 on all three: acc (1/2+1+1/2+0)/4, prec 3/4, rec 2/4.
    assert (z.accuracy, z.precision, z.recall) == pytest.approx((0.5, 0.75, 0.5))


def test_label_without_positives_is_skipped_or_scored_half_its_negative_recall() -> None:
    gt = np.array([[1, 0], [0, 0], [1, 0]], bool)
    pred = np.array([[1, 1], [0, 0], [0, 0]], bool)
    m = par_metrics(pred, gt)
    # Label 0: TPR 1/2, TNR 1 -> 3/4.  Label 1 has no positive: TPR undefined -> left out of mA.
    assert np.isnan(m.positive_recall[1])
    assert m.negative_recall[1] == pytest.approx(2 / 3)
    assert np.isnan(m.label_mA[1])
    assert m.mA == pytest.approx(0.75)
    assert m.num_labels_scored == 1
    z = par_metrics(pred, gt, undefined="zero")
    # Label 1 now scores (0 + 2/3) / 2 = 1/3 and enters the mean: (3/4 + 1/3) / 2.
    assert z.label_mA[1] == pytest.approx(1 / 3)
    assert z.mA == pytest.approx((0.75 + 1 / 3) / 2)


def test_fully_masked_labels_and_instances_are_left_out_in_both_conventions() -> None:
    gt = np.array([[1, 1], [0, 1], [1, 0]], bool)
    pred = np.array([[1, 0], [0, 1], [1, 1]], bool)
    mask = np.array([[True, False], [True, False], [False, False]])
    for undefined in ("skip", "zero"):
        m = par_metrics(pred, gt, mask, undefined=undefined)  # type: ignore[arg-type]
        assert np.isnan(m.label_mA[1])
        assert m.num_labels_scored == 1
        assert m.num_instances_scored == 2
        assert m.mA == pytest.approx(1.0)
    empty = par_metrics(pred, gt, np.zeros_like(mask))
    assert np.isnan(empty.mA)
    assert np.isnan(empty.accuracy)
    assert np.isnan(empty.f1)


def _brute_force(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray, undefined: str) -> dict[str, float]:
    n, n_labels = gt.shape
    label_scores = []
    for j in range(n_labels):
        tp = fn = tn = fp = 0
        for i in range(n):
            if not mask[i, j]:
                continue
            if gt[i, j]:
                tp += int(pred[i, j])
                fn += int(not pred[i, j])
            else:
                tn += int(not pred[i, j])
                fp += int(pred[i, j])
        if tp + fn + tn + fp == 0:
            continue
        if undefined == "skip" and (tp + fn == 0 or tn + fp == 0):
            continue
        tpr = tp / (tp + fn) if tp + fn else 0.0
        tnr = tn / (tn + fp) if tn + fp else 0.0
        label_scores.append((tpr + tnr) / 2)
    sums = {"acc": [], "prec": [], "rec": []}
    for i in range(n):
        labelled = [j for j in range(n_labels) if mask[i, j]]
        if not labelled:
            continue
        p = {j for j in labelled if pred[i, j]}
        g = {j for j in labelled if gt[i, j]}
        for key, den in (("acc", len(p | g)), ("prec", len(p)), ("rec", len(g))):
            if den:
                sums[key].append(len(p & g) / den)
            elif undefined == "zero":
                sums[key].append(0.0)
    out = {"mA": float(np.mean(label_scores))}
    out.update({k: float(np.mean(v)) for k, v in sums.items()})
    out["f1"] = 2 * out["prec"] * out["rec"] / (out["prec"] + out["rec"])
    return out


@pytest.mark.parametrize("undefined", ["skip", "zero"])
def test_vectorised_metrics_match_a_brute_force_loop_on_random_data(undefined: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(5):
        n, n_labels = 40, 9
        gt = rng.random((n, n_labels)) < rng.uniform(0.05, 0.5, n_labels)
        pred = np.where(rng.random((n, n_labels)) < 0.7, gt, ~gt)
        mask = rng.random((n, n_labels)) < 0.8
        mask[:, 0] = False  # a label the data set does not provide
        gt[:, 1] = False  # a label with no positives
        m = par_metrics(pred, gt, mask, undefined=undefined)  # type: ignore[arg-type]
        ref = _brute_force(pred, gt, mask, undefined)
        got = {"mA": m.mA, "acc": m.accuracy, "prec": m.precision, "rec": m.recall, "f1": m.f1}
        assert got == pytest.approx(ref)


def test_zero_convention_equals_the_epsilon_denominator_formulas_without_a_mask() -> None:
    # Rethinking-of-PAR style: every ratio x / (d + eps), empty denominators giving 0, all rows and
    # labels averaged; F1 from the averaged precision and recall.
    rng = np.random.default_rng(11)
    gt = rng.random((60, 12)) < 0.3
    gt[:, 3] = False
    gt[5] = False
    pred = np.where(rng.random(gt.shape) < 0.75, gt, ~gt)
    eps = 1e-20
    tpr = (gt & pred).sum(0) / (gt.sum(0) + eps)
    tnr = (~gt & ~pred).sum(0) / ((~gt).sum(0) + eps)
    inter = (gt & pred).sum(1)
    acc = np.mean(inter / ((gt | pred).sum(1) + eps))
    prec = np.mean(inter / (pred.sum(1) + eps))
    rec = np.mean(inter / (gt.sum(1) + eps))
    m = par_metrics(pred, gt, undefined="zero")
    assert m.mA == pytest.approx(np.mean((tpr + tnr) / 2))
    assert (m.accuracy, m.precision, m.recall) == pytest.approx((acc, prec, rec))
    assert m.f1 == pytest.approx(2 * prec * rec / (prec + rec))


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        par_metrics(PRED, GT[:3])
    with pytest.raises(ValueError, match="binary"):
        par_metrics(PRED * 2, GT)
    with pytest.raises(ValueError, match="names"):
        par_metrics(PRED, GT, names=("a",))


def test_multi_hot_view_counts_one_binary_label_per_attribute_value() -> None:
    names = multi_hot_names()
    assert len(names) == SCHEMA.multi_hot(None)[0].size
    assert "glasses" in names
    assert names.count("upper_colour=red") == 1
    assert sum(n.startswith("upper_colour=") for n in names) == 11
    labels, mask = multi_hot_labels([{"upper_colour": "red", "glasses": False}, None])
    assert labels.shape == mask.shape == (2, len(names))
    assert labels[0, names.index("upper_colour=red")]
    assert int(labels[0].sum()) == 1
    assert int(mask[0].sum()) == 11 + 1
    assert not mask[1].any()


def test_head_probabilities_become_one_predicted_value_per_attribute() -> None:
    rng = np.random.default_rng(0)
    heads = [rng.dirichlet(np.ones(size), size=3).astype(np.float32) for size in SCHEMA.head_sizes]
    probs = heads_to_multi_hot(heads)
    names = multi_hot_names()
    assert probs.shape == (3, len(names))
    np.testing.assert_allclose(heads_to_multi_hot(np.concatenate(heads, axis=1)), probs)
    pred = predict_multi_hot(probs)
    colour = heads[SCHEMA.position("upper_colour")]
    for i in range(3):
        # The argmax colour is the one predicted value; glasses is yes when p(yes) > 0.5.
        expected = f"upper_colour={SCHEMA['upper_colour'].values[int(colour[i].argmax())]}"
        cols = [j for j, n in enumerate(names) if n.startswith("upper_colour=")]
        assert [names[j] for j in cols if pred[i, j]] == [expected]
        glasses = heads[SCHEMA.position("glasses")][i, 1]
        assert pred[i, names.index("glasses")] == (glasses > 0.5)
    # Perfect one-hot heads reproduce the ground-truth multi-hot labels.
    truth = {a.name: a.value_of(1) for a in SCHEMA.attributes}
    one_hot = [np.eye(size, dtype=np.float32)[[1]] for size in SCHEMA.head_sizes]
    labels, mask = multi_hot_labels([truth])
    np.testing.assert_array_equal(predict_multi_hot(heads_to_multi_hot(one_hot)), labels)
    assert mask.all()
    with pytest.raises(ValueError, match="heads"):
        heads_to_multi_hot(heads[:-1])


def test_predictions_file_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    names = multi_hot_names()
    probs = rng.random((5, len(names))).astype(np.float32)
    labels, mask = multi_hot_labels([{"gender": "male", "hat": True}] * 5)
    path = tmp_path / "preds.npz"
    save_predictions(path, probs, labels, mask, names)
    back = load_predictions(path)
    np.testing.assert_array_equal(back.probabilities, probs)
    np.testing.assert_array_equal(back.labels, labels)
    np.testing.assert_array_equal(back.label_mask, mask)
    assert back.attribute_names == names
    with np.load(path) as z:
        assert set(z.files) == {"probabilities", "labels", "label_mask", "attribute_names"}
    (tmp_path / "bad.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match=r"bad\.npz"):
        load_predictions(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="names"):
        save_predictions(path, probs, labels, mask, names[:-1])
