from __future__ import annotations

import numpy as np
import pytest

from ennead.core.errors import DataError, UnknownNameError
from ennead.sqe.mot import Boxes, read_mot, read_sequence, tud_gt, write_mot, write_sequence


def test_roundtrip_with_features(tmp_path, small_seq):
    path = write_mot(tmp_path / "det.txt", small_seq.detections)
    back = read_mot(path, "det")
    assert len(back) == len(small_seq.detections)
    np.testing.assert_allclose(back.xywh, small_seq.detections.xywh, atol=0.006)
    np.testing.assert_allclose(back.features, small_seq.detections.features, atol=1e-6)
    assert (back.ids == -1).all()


def test_sequence_folder_roundtrip(tmp_path, small_seq):
    folder = write_sequence(tmp_path / "s", small_seq)
    seq = read_sequence(folder)
    assert seq.name == small_seq.name and seq.fps == small_seq.fps
    assert len(seq.gt) == len(small_seq.gt) and seq.detections.features.shape[1] == 64


def test_negative_size_names_file_and_line(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("1,1,10,10,5,5,1\n2,1,10,10,-5,5,1\n")
    with pytest.raises(DataError, match=r"t\.txt:2: box has non-positive size w=-5"):
        read_mot(p)


def test_bad_number_and_short_row(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("1,1,10,x,5,5\n")
    with pytest.raises(DataError, match=r":1: not a number"):
        read_mot(p)
    p.write_text("1,1,10,5\n")
    with pytest.raises(DataError, match=">= 6"):
        read_mot(p)


def test_frames_out_of_order_are_sorted_with_their_features(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("3,1,0,0,5,5,1\n1,1,0,0,5,5,1\n2,1,0,0,5,5,1\n")
    np.save(tmp_path / "t.npy", np.eye(3, 4) + 0.01)
    b = read_mot(p)
    assert b.frame.tolist() == [1, 2, 3]
    # the row of frame 3 (first in the file) carried feature e0; it must follow its box
    assert int(np.argmax(b.features[2])) == 0 and int(np.argmax(b.features[0])) == 1


def test_nan_features_and_row_mismatch(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("1,1,0,0,5,5,1\n2,1,0,0,5,5,1\n")
    np.save(tmp_path / "t.npy", np.array([[1.0, 0.0], [np.nan, 1.0]]))
    with pytest.raises(DataError, match="feature row 1 holds NaN"):
        read_mot(p)
    np.save(tmp_path / "t.npy", np.ones((3, 2)))
    with pytest.raises(DataError, match="3 feature rows for 2 boxes"):
        read_mot(p)


def test_duplicate_id_in_a_frame(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("1,4,0,0,5,5,1\n1,4,9,9,5,5,1\n")
    with pytest.raises(DataError, match="id 4 appears twice in frame 1"):
        read_mot(p, "tracks")


def test_boxes_validation_in_memory():
    with pytest.raises(DataError, match="non-positive size"):
        Boxes([1], [1], [[0, 0, 0, 5]], [1.0])
    with pytest.raises(DataError, match="start at 1"):
        Boxes([0], [1], [[0, 0, 4, 5]], [1.0])


def test_tud_ground_truth_from_motmetrics():
    campus, stadt = tud_gt("campus"), tud_gt("stadtmitte")
    assert (len(campus), len(campus.track_ids), campus.n_frames) == (359, 8, 71)
    assert (len(stadt), len(stadt.track_ids), stadt.n_frames) == (1156, 10, 179)
    with pytest.raises(UnknownNameError, match="did you mean 'campus'"):
        tud_gt("campos")
