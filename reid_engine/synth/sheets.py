"""Contact sheets for the datasheet: identities across outfits and views, generated crops, labels,
a walking clip and a scene frame with its ground-truth boxes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from reid_engine.synth.body import View
from reid_engine.synth.image_set import ImageSetConfig
from reid_engine.synth.painter import LABELS
from reid_engine.synth.plan import make_plan, stream
from reid_engine.synth.render import render_person
from reid_engine.synth.scenes import SceneSetConfig, _compose, make_scene_camera, plan_walks
from reid_engine.synth.shots import make_cameras, render_shot, sample_shot

VIEWS = (0.0, 45.0, 90.0, 180.0)
_LABEL_RGB = np.array(
    [
        (0, 0, 0),
        (255, 0, 255),
        (120, 60, 20),
        (0, 255, 255),
        (255, 200, 160),
        (230, 40, 40),
        (40, 80, 230),
        (255, 160, 100),
        (200, 130, 80),
        (90, 90, 90),
        (40, 200, 40),
        (255, 255, 255),
    ],
    dtype=np.uint8,
)
_SKELETON = (
    (5, 7),
    (7, 9),
    (6, 8),
    (8, 10),
    (5, 6),
    (11, 12),
    (5, 11),
    (6, 12),
    (11, 13),
    (13, 15),
    (12, 14),
    (14, 16),
)


def _save(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return path


def _grid(tiles: list[list[np.ndarray]], pad: int = 2) -> np.ndarray:
    rows = []
    for row in tiles:
        padded = [np.pad(t, ((pad, pad), (pad, pad), (0, 0)), constant_values=255) for t in row]
        rows.append(np.concatenate(padded, axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return np.concatenate(rows, axis=0)


def _skeleton(img: np.ndarray, kp: np.ndarray) -> np.ndarray:
    out = img.copy()
    for a, b in _SKELETON:
        if kp[a, 2] > 0 and kp[b, 2] > 0:
            cv2.line(out, (int(kp[a, 0]), int(kp[a, 1])), (int(kp[b, 0]), int(kp[b, 1])), (255, 255, 0), 1)
    for x, y, v in kp:
        if v > 0:
            cv2.circle(out, (int(x), int(y)), 2, (0, 255, 0) if v == 2 else (255, 0, 0), -1)
    return out


def write_contact_sheets(out: Path, *, seed: int = 0, num_ids: int = 6) -> list[Path]:
    """Write the contact sheets (PNG) into ``out``; returns their paths.

    ``identities.png``: rows of identities, each outfit in front, oblique, side and back views.
    ``crops.png``: generated training crops of the same identities (light, blur, occluders…).
    ``labels.png``: crops with their label maps and keypoints. ``tracklet.png``: one clip.
    ``scene.png``: scene frames with ground-truth boxes and visibility.
    """
    # A full-size population, so that the pool of look-alike outfits is as large as in a real set.
    cfg = ImageSetConfig(seed=seed, ids=max(num_ids, 150))
    cameras = make_cameras(seed, cfg.cameras)
    plan = make_plan(
        seed=seed,
        num_ids=cfg.ids,
        outfits=cfg.outfits,
        cameras=cfg.cameras,
        cams_per_outfit=cfg.cams_per_outfit,
        single_outfit_fraction=0.0,
        train_fraction=0.5,
        protocol="ltcc",
        camera_yaws=tuple(c.yaw_centres for c in cameras),
    )
    pop = plan.population
    ids = pop.identities[:num_ids]
    paths = []

    clean = []
    for ident in ids:
        row = []
        for outfit in pop.outfits[ident.pid]:
            for yaw in VIEWS:
                tile = np.full((160, 80, 3), 235, np.uint8)
                view = View(yaw, 145.0 / ident.body.height_m, 40.0, 152.0)
                render_person(ident, outfit, view, 0.2, (160, 80)).paste(tile)
                row.append(tile)
        clean.append(row)
    paths.append(_save(out / "identities.png", _grid(clean)))

    rng = stream(seed, 9000)
    crops: list[list[np.ndarray]] = []
    label_rows: list[list[np.ndarray]] = []
    for ident in ids:
        row = []
        for n in range(12):
            outfit = pop.outfits[ident.pid][n % len(pop.outfits[ident.pid])]
            cam = cameras[n % len(cameras)]
            sample = render_shot(ident, outfit, cam, sample_shot(rng, cam), rng, size_hw=(128, 64))
            row.append(sample.image)
            if n < 4 and len(label_rows) < 4:
                big = render_shot(ident, outfit, cam, sample_shot(rng, cam, strength=0.3), rng)
                label_rows.append([big.image, _LABEL_RGB[big.labels], _skeleton(big.image, big.keypoints)])
        crops.append(row)
    paths.append(_save(out / "crops.png", _grid(crops)))
    legend = np.full((40, 3 * 132 * 4, 3), 255, np.uint8)
    for i, name in enumerate(LABELS):
        x = 6 + (i % 6) * 88
        y = 14 + (i // 6) * 18
        cv2.rectangle(legend, (x, y - 8), (x + 10, y + 2), _LABEL_RGB[i].tolist(), -1)
        cv2.rectangle(legend, (x, y - 8), (x + 10, y + 2), (0, 0, 0), 1)
        cv2.putText(legend, name, (x + 14, y + 1), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    grid = _grid([[t for trio in label_rows for t in trio][i : i + 6] for i in range(0, 12, 6)])
    legend = (
        legend[:, : grid.shape[1]]
        if legend.shape[1] >= grid.shape[1]
        else np.pad(legend, ((0, 0), (0, grid.shape[1] - legend.shape[1]), (0, 0)), constant_values=255)
    )
    paths.append(_save(out / "labels.png", np.concatenate([grid, legend], axis=0)))

    ident = ids[0]
    outfit = pop.outfits[ident.pid][0]
    shot = replace(sample_shot(rng, cameras[1], base_yaw=90.0, occlusion_p=0.0, strength=0.3), yaw=90.0)
    frames = []
    for f in range(8):
        fs = replace(shot, phase=shot.phase + f * ident.gait.cadence / 10.0)
        frames.append(render_shot(ident, outfit, cameras[1], fs, rng, size_hw=(128, 64)).image)
    paths.append(_save(out / "tracklet.png", _grid([frames])))

    scfg = SceneSetConfig(seed=seed)
    scene_plan = make_plan(
        seed=seed,
        num_ids=scfg.ids,
        outfits=scfg.outfits,
        cameras=1,
        cams_per_outfit=1,
        single_outfit_fraction=0.0,
        train_fraction=0.5,
        protocol="ltcc",
        camera_yaws=((0.0,),),
    )
    outfits = {o.clothes_id: o for o in scene_plan.population.all_outfits()}
    shots = []
    for camid in range(2):
        scam = make_scene_camera(seed, camid, scfg.width, scfg.height)
        walks = plan_walks(scene_plan, scam, seed=seed, people=scfg.people, duration=scfg.duration)
        # Show the busiest moment of the first half minute.
        best_t = max((t / 2 for t in range(60)), key=lambda t: sum(w.at(t) is not None for w in walks))
        frame, rows = _compose(scam, walks, scene_plan, outfits, best_t, stream(seed, 9001))
        frame = frame.copy()
        for walk, (x, y, w, h), vis in rows:
            cv2.rectangle(frame, (x, y), (x + w, y + h), (255, 40, 40), 1)
            label = f"id{walk.track_id} p{walk.pid} v{vis:.2f}"
            cv2.putText(
                frame,
                label,
                (x, max(10, y - 3)),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.35,
                (255, 255, 0),
                1,
                cv2.LINE_AA,
            )
        shots.append(frame)
    paths.append(_save(out / "scene.png", np.concatenate(shots, axis=0)))
    return paths
