"""Tests of `clips`, the code the natural-video builders (mug, nir, weizmann) share: reading
frames, cropping, the subject split and the clip configs. Each builder's own test runs it on its
raw layout."""

import cv2
from etils import epath
import numpy as np
import pytest

from rjkeras.datasets import clips
from rjkeras.errors import UserError


def test_subject_splits_depend_on_the_ids_and_the_seed_alone():
    ids = [f"{i:03d}" for i in range(1000)]
    splits = clips.subject_splits(ids, 0.2, seed=0)
    assert set(splits) == set(ids) and sum(s == "test" for s in splits.values()) == 200
    assert clips.subject_splits(list(reversed(ids)), 0.2, seed=0) == splits  # order does not matter
    assert clips.subject_splits(ids, 0.2, seed=1) != splits
    assert set(clips.subject_splits(ids, 0.0, seed=0).values()) == {"train"}  # MoCoGAN's protocol


def test_read_jpeg_rejects_empty_truncated_and_garbage_files(tmp_path):
    ok, data = cv2.imencode(".jpg", np.full((8, 8, 3), 100, np.uint8))
    cases = {"empty": b"", "truncated": data.tobytes()[:-40], "garbage": b"\x00" * 64 + b"\xff\xd9"}
    reasons = {"empty": "empty file", "truncated": "truncated JPEG", "garbage": "not a decodable JPEG"}
    for name, content in cases.items():
        path = tmp_path / f"{name}.jpg"
        path.write_bytes(content)
        with pytest.raises(clips.CorruptFile, match=reasons[name]):
            clips.read_jpeg(epath.Path(path))
    (tmp_path / "ok.jpg").write_bytes(data.tobytes())
    assert clips.read_jpeg(epath.Path(tmp_path / "ok.jpg")).shape == (8, 8, 3)


def test_frames_sort_numerically():
    paths = [epath.Path(f"/t/img_{n}.jpg") for n in (10, 2, 1, 33, 3)]
    ordered, why_not = clips.sorted_frames(paths)
    assert [p.name for p in ordered] == ["img_1.jpg", "img_2.jpg", "img_3.jpg", "img_10.jpg", "img_33.jpg"]
    assert why_not is None
    _, why_not = clips.sorted_frames([epath.Path("/t/img_1.jpg"), epath.Path("/t/01.jpg")])
    assert "same number 1" in why_not
    _, why_not = clips.sorted_frames([epath.Path("/t/cover.jpg")])
    assert "no number" in why_not


@pytest.mark.parametrize("face, shape, box", [
    ((40, 30, 50, 50), (200, 300), (35, 25, 60)),  # widened by 10% of its side on every side
    ((0, 0, 50, 50), (200, 300), (0, 0, 60)),  # at the corner: shifted inside the image
    ((260, 160, 40, 40), (200, 300), (252, 152, 48)),  # at the far corner: shifted inside
    ((50, 20, 180, 180), (200, 300), (40, 0, 200)),  # larger than the image: shrunk to its height
    ((100, 50, 40, 60), (200, 300), (84, 44, 72)),  # not square: the longer side decides
])
def test_face_crop_geometry(face, shape, box):
    assert clips.face_crop_box(face, shape) == box
    x0, y0, side = box
    assert 0 <= x0 and x0 + side <= shape[1] and 0 <= y0 and y0 + side <= shape[0]


def test_centre_crop_box():
    assert clips.centre_crop_box((32, 40, 3)) == (4, 0, 32)
    assert clips.centre_crop_box((144, 180)) == (18, 0, 144)
    assert clips.centre_crop_box((50, 30)) == (0, 10, 30)


class FakeDetector:
    """Finds the faces it is given, in the coordinates of the image it is handed."""

    def __init__(self, faces):
        self.faces = faces
        self.shapes = []

    def detectMultiScale(self, image, **kwargs):  # noqa: N802 (OpenCV's name)
        self.shapes.append(image.shape)
        return np.array(self.faces)


def test_detect_face_takes_the_largest_and_undoes_the_downscale():
    detector = FakeDetector([(10, 10, 20, 20), (100, 50, 80, 80)])
    face = clips.detect_face(np.zeros((800, 800), np.uint8), detector)
    assert detector.shapes == [(400, 400)]  # detection runs on a copy of at most 400 px
    assert face == (200, 100, 160, 160)


@pytest.mark.skipif(clips.face_detector() is None, reason="this OpenCV has no Haar cascade")
def test_haar_cascade_finds_a_drawn_face():
    image = np.full((300, 360), 90, np.uint8)
    cv2.ellipse(image, (180, 150), (70, 95), 0, 0, 360, 200, -1)  # the face
    for dx in (-30, 30):
        cv2.ellipse(image, (180 + dx, 125), (16, 8), 0, 0, 360, 40, -1)  # eyes
        cv2.line(image, (160 + dx, 102), (198 + dx, 100), 50, 6)  # brows
    cv2.line(image, (180, 130), (174, 170), 150, 4)  # nose
    cv2.ellipse(image, (180, 195), (25, 8), 0, 0, 360, 70, -1)  # mouth
    x, y, w, h = clips.detect_face(image, clips.face_detector())
    assert abs(x + w / 2 - 180) < 15 and abs(y + h / 2 - 150) < 30 and 120 < w < 260


def test_config_arguments_are_validated():
    with pytest.raises(UserError, match="clip_stride=0 must be >= 1"):
        clips.ClipConfig(name="bad", clip_stride=0)
    with pytest.raises(UserError, match=r"test_fraction=1.0 must be in \[0, 1\)"):
        clips.ClipConfig(name="bad", test_fraction=1.0)
    config = clips.ClipConfig(name="ok", clip_length=16, clip_stride=2, clip_hop=8)
    assert config.clip_span == 31 and list(clips.clip_starts(40, config)) == [0, 8]
    assert not clips.clip_starts(30, config)
