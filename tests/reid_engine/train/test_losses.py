"""Loss functions against values worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from reid_engine.train.losses import (
    CosineClassifier,
    clothes_adversarial_loss,
    cross_entropy_smooth,
    pairwise_euclidean,
    triplet_batch_hard,
)


def test_batch_hard_triplet_uses_the_farthest_positive_and_nearest_negative() -> None:
    # 1-D points: id 0 at 0 and 1, id 1 at 3 and 7.
    x = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    pids = torch.tensor([0, 0, 1, 1])
    # anchor 0: d_ap 1, d_an 3 → max(0, 1 - 3 + 0.3) = 0
    # anchor 1: d_ap 1, d_an 2 → 0
    # anchor 3 (x=3): d_ap 4, d_an 2 → 4 - 2 + 0.3 = 2.3
    # anchor 4 (x=7): d_ap 4, d_an 6 → 0
    assert triplet_batch_hard(x, pids, margin=0.3).item() == pytest.approx(2.3 / 4, abs=1e-5)
    soft = (math.log1p(math.exp(1 - 3)) + math.log1p(math.exp(1 - 2)) + math.log1p(math.exp(4 - 2))
            + math.log1p(math.exp(4 - 6))) / 4
    assert triplet_batch_hard(x, pids, margin=0.0).item() == pytest.approx(soft, abs=1e-5)


def test_triplet_skips_anchors_without_positive_and_is_zero_without_any() -> None:
    x = torch.tensor([[0.0], [1.0], [5.0]], requires_grad=True)
    # Only id 0 has a positive: anchors 0 and 1 count, anchor 2 is skipped.
    loss = triplet_batch_hard(x, torch.tensor([0, 0, 1]), margin=5.0)
    # anchor 0: 1 - 5 + 5 = 1; anchor 1: 1 - 4 + 5 = 2 → mean 1.5
    assert loss.item() == pytest.approx(1.5, abs=1e-5)
    none = triplet_batch_hard(x, torch.tensor([0, 1, 2]))
    assert none.item() == 0.0
    none.backward()  # still part of the graph


def test_pairwise_distance_is_zero_on_the_diagonal_and_symmetric() -> None:
    x = torch.randn(5, 8)
    d = pairwise_euclidean(x)
    assert torch.allclose(d, d.t())
    assert d.diagonal().max() < 5e-3  # float32 cancellation in |a|² + |b|² - 2ab
    assert d[0, 1].item() == pytest.approx((x[0] - x[1]).norm().item(), rel=1e-4)


def test_label_smoothing_spreads_epsilon_over_all_classes() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.25]]))
    # target (0.9 + 0.1/3, 0.1/3, 0.1/3) against log p
    expected = -((0.9 + 0.1 / 3) * math.log(0.5) + 2 * (0.1 / 3) * math.log(0.25))
    assert cross_entropy_smooth(logits, torch.tensor([0]), 0.1).item() == pytest.approx(expected, rel=1e-5)


def test_clothes_adversarial_loss_matches_the_hand_computed_value() -> None:
    # Outfits 0 and 1 belong to identity A, outfit 2 to identity B. A sample of A wears outfit 0.
    same = torch.tensor([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=torch.bool)
    logits = torch.tensor([[2.0, 1.0, 0.5]])
    eps = 0.1
    # Each positive class is scored against the negatives only: log p(c) = c - log(e^c + e^0.5).
    lp0 = 2.0 - math.log(math.exp(2.0) + math.exp(0.5))
    lp1 = 1.0 - math.log(math.exp(1.0) + math.exp(0.5))
    # target: (1 - eps) on the worn outfit, eps / 2 on each of the identity's two outfits.
    expected = -((1 - eps + eps / 2) * lp0 + (eps / 2) * lp1)
    loss = clothes_adversarial_loss(logits, torch.tensor([0]), same, eps)
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_clothes_adversarial_loss_prefers_features_that_cannot_tell_an_identitys_outfits_apart() -> None:
    same = torch.tensor([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=torch.bool)
    target = torch.tensor([0])
    # Equal scores for both of A's outfits (clothes-blind) beat a feature that sees outfit 0 only
    # when the epsilon term is large; both beat confusing A with B.
    blind = clothes_adversarial_loss(torch.tensor([[3.0, 3.0, -3.0]]), target, same, 0.5)
    confused_with_b = clothes_adversarial_loss(torch.tensor([[-3.0, -3.0, 3.0]]), target, same, 0.5)
    assert blind < confused_with_b


def test_cosine_classifier_logits_are_bounded_by_the_scale_and_can_freeze_weights() -> None:
    clf = CosineClassifier(4, 3, scale=16.0)
    x = torch.randn(5, 4, requires_grad=True)
    logits = clf(x, detach_weight=True)
    assert logits.abs().max() <= 16.0 + 1e-4
    logits.sum().backward()
    assert clf.weight.grad is None
    assert x.grad is not None
