"""Constant-velocity Kalman filter on (cx, cy, aspect, h), as used by SORT, DeepSORT and ByteTrack."""

from __future__ import annotations

import numpy as np
import scipy.linalg

_NDIM = 4


def xyxy_to_xyah(boxes: np.ndarray) -> np.ndarray:
    """Convert xyxy boxes to (centre x, centre y, width / height, height).

    Args:
        boxes: float (N, 4) xyxy.

    Returns:
        float64 (N, 4).
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    w = b[:, 2] - b[:, 0]
    h = np.maximum(b[:, 3] - b[:, 1], 1e-6)
    return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, w / h, h], axis=1)


def xyah_to_xyxy(xyah: np.ndarray) -> np.ndarray:
    """Convert (centre x, centre y, width / height, height) to xyxy boxes.

    Args:
        xyah: float (N, 4); extra trailing columns (velocities) are ignored.

    Returns:
        float64 (N, 4).
    """
    s = np.asarray(xyah, dtype=np.float64).reshape(len(xyah), -1)[:, :_NDIM]
    h = np.maximum(s[:, 3], 0.0)
    w = np.maximum(s[:, 2], 0.0) * h
    return np.stack([s[:, 0] - w / 2, s[:, 1] - h / 2, s[:, 0] + w / 2, s[:, 1] + h / 2], axis=1)


class KalmanBoxFilter:
    """Kalman filter for boxes moving at constant velocity in image space.

    State: (cx, cy, a, h, vcx, vcy, va, vh). Position and velocity noise scale with the box height,
    so the filter behaves the same for near and far people. The weights are per *update step*: at a
    low sampled frame rate each step covers more motion, so a larger ``std_weight_velocity`` lets the
    filter follow changes of pace and direction faster.

    Args:
        std_weight_position: standard deviation of position noise, as a fraction of box height.
        std_weight_velocity: standard deviation of velocity noise per step, as a fraction of height.
    """

    def __init__(self, *, std_weight_position: float = 1.0 / 20, std_weight_velocity: float = 1.0 / 160):
        self.std_weight_position = float(std_weight_position)
        self.std_weight_velocity = float(std_weight_velocity)
        self._motion = np.eye(2 * _NDIM)
        self._motion[:_NDIM, _NDIM:] = np.eye(_NDIM)
        self._observe = np.eye(_NDIM, 2 * _NDIM)

    def initiate(self, measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start a track from one (cx, cy, a, h) measurement.

        Returns:
            Mean float64 (8,) with zero velocity, and covariance float64 (8, 8).
        """
        m = np.asarray(measurement, dtype=np.float64).reshape(_NDIM)
        mean = np.concatenate([m, np.zeros(_NDIM)])
        h = m[3]
        sp, sv = self.std_weight_position, self.std_weight_velocity
        std = np.array(
            [2 * sp * h, 2 * sp * h, 1e-2, 2 * sp * h, 10 * sv * h, 10 * sv * h, 1e-5, 10 * sv * h]
        )
        return mean, np.diag(np.square(std))

    def predict(self, means: np.ndarray, covariances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance many tracks by one step at once.

        Args:
            means: float64 (N, 8).
            covariances: float64 (N, 8, 8).

        Returns:
            The predicted means (N, 8) and covariances (N, 8, 8), as new arrays.
        """
        means = np.asarray(means, dtype=np.float64).reshape(-1, 2 * _NDIM)
        covariances = np.asarray(covariances, dtype=np.float64).reshape(-1, 2 * _NDIM, 2 * _NDIM)
        h = means[:, 3]
        sp, sv = self.std_weight_position, self.std_weight_velocity
        ones = np.ones_like(h)
        std = np.stack([sp * h, sp * h, 1e-2 * ones, sp * h, sv * h, sv * h, 1e-5 * ones, sv * h], axis=1)
        noise = np.einsum("ni,ij->nij", np.square(std), np.eye(2 * _NDIM))
        new_means = means @ self._motion.T
        new_covs = self._motion @ covariances @ self._motion.T + noise
        return new_means, new_covs

    def update(
        self, mean: np.ndarray, covariance: np.ndarray, measurement: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Correct one track's state with a (cx, cy, a, h) measurement.

        Returns:
            The corrected mean (8,) and covariance (8, 8).
        """
        h = mean[3]
        sp = self.std_weight_position
        innovation_cov = self._observe @ covariance @ self._observe.T + np.diag(
            np.square([sp * h, sp * h, 1e-1, sp * h])
        )
        projected_mean = self._observe @ mean
        # A Cholesky solve instead of an explicit inverse: the innovation covariance is symmetric
        # positive definite, and this is both cheaper and numerically steadier.
        factor = scipy.linalg.cho_factor(innovation_cov, lower=True, check_finite=False)
        gain = scipy.linalg.cho_solve(factor, (covariance @ self._observe.T).T, check_finite=False).T
        innovation = np.asarray(measurement, dtype=np.float64).reshape(_NDIM) - projected_mean
        new_mean = mean + gain @ innovation
        new_cov = covariance - gain @ innovation_cov @ gain.T
        return new_mean, new_cov
