from __future__ import annotations

import numpy as np
import pytest

from ennead.core.errors import DataError
from ennead.sqe.config import TrackerConfig
from ennead.sqe.evaluate import gt_metrics
from ennead.sqe.mot import Boxes
from ennead.sqe.tracker import Tracker, iou_matrix, track


def _two_walkers(gap_frames=()):
    """Two people walking towards each other with distinct looks; optional missed frames."""
    rows, feats = [], []
    e = np.eye(8)
    for t in range(1, 61):
        for pid, x0, v in ((1, 50.0, 4.0), (2, 400.0, -4.0)):
            if pid == 1 and t in gap_frames:
                continue
            rows.append((t, pid, x0 + v * t, 100.0 + 60 * pid, 40.0, 100.0))
            feats.append(e[pid] + 0.05 * np.sin(t + pid) * e[0])
    a = np.array(rows)
    gt = Boxes(a[:, 0], a[:, 1], a[:, 2:6], np.ones(len(a)))
    dets = Boxes(a[:, 0], -np.ones(len(a)), a[:, 2:6], np.ones(len(a)), np.array(feats))
    return gt, dets


def test_two_people_tracked_perfectly():
    gt, dets = _two_walkers()
    out = track(dets)
    assert len(out.track_ids) == 2
    m = gt_metrics(gt, out)
    assert m["idf1"] == pytest.approx(1.0) and m["num_switches"] == 0


def test_reidentifies_after_missed_frames_within_max_age():
    _gt, dets = _two_walkers(gap_frames=range(20, 26))
    out = track(dets, TrackerConfig(max_age=10))
    assert len(out.track_ids) == 2
    short = track(dets, TrackerConfig(max_age=2))
    assert len(short.track_ids) == 3  # the track died in the gap; a new one starts after it


def test_strict_appearance_threshold_fragments_loose_does_not():
    _gt, dets = _two_walkers()
    # appearance distance between frames is ~0.003; 0.0 forbids every appearance match
    strict = track(dets, TrackerConfig(appearance_thresh=0.0, iou_fallback=False, min_hits=1))
    assert len(strict.track_ids) > 2
    assert len(track(dets, TrackerConfig(min_hits=1)).track_ids) == 2


def test_min_hits_drops_one_frame_blips():
    _gt, dets = _two_walkers()
    blip = Boxes([30], [-1], [[700.0, 500.0, 40.0, 100.0]], [1.0], np.eye(8)[5:6])
    both = Boxes(
        np.r_[dets.frame, blip.frame],
        np.r_[dets.ids, blip.ids],
        np.r_[dets.xywh, blip.xywh],
        np.r_[dets.conf, blip.conf],
        np.r_[dets.features, blip.features],
    )
    assert len(track(both, TrackerConfig(min_hits=3)).track_ids) == 2
    assert len(track(both, TrackerConfig(min_hits=1)).track_ids) == 3


def test_needs_features_and_iou_is_correct():
    gt, _ = _two_walkers()
    with pytest.raises(DataError, match="appearance features"):
        Tracker().run(gt)
    iou = iou_matrix(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 10, 10], [20, 20, 1, 1]]))
    np.testing.assert_allclose(iou, [[50 / 150, 0.0]])


def test_simulated_sequence_is_tracked_well(small_seq):
    m = gt_metrics(small_seq.gt, track(small_seq.detections))
    assert m["idf1"] > 0.7 and m["mota"] > 0.5
