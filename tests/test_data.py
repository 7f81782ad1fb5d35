"""Tests of the tf.data pipelines on synthetic_sprites/tiny (72 train, 36 test videos)."""

import numpy as np
import pytest

from rjkeras import data
from rjkeras.errors import UserError

LABELS = ("action", "direction", "body", "bottom", "top", "hair", "character")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("tfds"))
    data.dataset_info("synthetic_sprites", data_dir=path, builder_config="tiny")  # prepares it once
    return path


def _videos(data_dir, split="train", **kwargs):
    kwargs.setdefault("batch_size", 5)
    return data.videos("synthetic_sprites", split, data_dir=data_dir, builder_config="tiny", **kwargs)


def test_dataset_info(data_dir):
    info = data.dataset_info("synthetic_sprites", data_dir=data_dir, builder_config="tiny")
    assert (info.config, info.num_frames, info.image_shape) == ("tiny", 8, (64, 64, 3))
    assert info.split_sizes == {"test": 36, "train": 72}
    assert info.label_names["action"] == ["walk", "spellcast", "slash"]
    assert info.label_names["direction"] == ["left", "front", "right"]
    assert info.label_names["hair"] == [str(i) for i in range(6)]
    assert set(info.labels) == set(LABELS)


def test_dataset_info_follows_the_config_frames(tmp_path):
    info = data.dataset_info("synthetic_sprites", data_dir=str(tmp_path), builder_config="tiny16")
    assert (info.config, info.num_frames, info.image_shape) == ("tiny16", 16, (64, 64, 3))
    assert info.split_sizes == {"test": 36, "train": 72}
    ds = data.videos("synthetic_sprites", "test", data_dir=str(tmp_path), builder_config="tiny16",
                     batch_size=2)
    video = next(iter(ds))["video"]
    assert video.shape == (2, 16, 64, 64, 3)


def test_batches_of_normalised_videos_with_labels(data_dir):
    batch = next(iter(_videos(data_dir)))
    video = batch["video"].numpy()
    assert video.shape == (5, 8, 64, 64, 3) and video.dtype == np.float32
    assert -1.0 <= video.min() < -0.5 and 0.5 < video.max() <= 1.0
    # uint8 / 127.5 - 1 exactly: every value is a multiple of 1 / 127.5 away from -1.
    np.testing.assert_allclose((video + 1) * 127.5, np.round((video + 1) * 127.5), atol=1e-3)
    for key in LABELS:
        assert batch[key].shape == (5,)
    assert batch["action"].dtype.name == "int64" and batch["character"].dtype.name == "int32"
    assert batch["character"].numpy().max() < 8  # train characters


def test_resize_and_first_frames(data_dir):
    batch = next(iter(_videos(data_dir, image_size=32, num_frames=4)))
    video = batch["video"].numpy()
    assert video.shape == (5, 4, 32, 32, 3)
    assert -1.0 <= video.min() and video.max() <= 1.0
    full = next(iter(_videos(data_dir, shuffle=False)))["video"].numpy()
    small = next(iter(_videos(data_dir, shuffle=False, image_size=32, num_frames=4)))["video"].numpy()
    # Shrinking keeps the picture: each 2x2 block's mean is close to the antialiased pixel.
    blocks = full[:, :4].reshape(5, 4, 32, 2, 32, 2, 3).mean(axis=(3, 5))
    assert np.abs(blocks - small).mean() < 0.05


def test_drop_remainder(data_dir):
    # 36 test videos in batches of 10: 3 full batches, and a remainder of 6 unless dropped.
    sizes = [len(b["action"]) for b in _videos(data_dir, "test", batch_size=10, repeat=False)]
    assert sizes == [10, 10, 10]
    kept = _videos(data_dir, "test", batch_size=10, repeat=False, drop_remainder=False)
    assert [len(b["action"]) for b in kept] == [10, 10, 10, 6]


def test_an_epoch_holds_each_video_once(data_dir):
    batches = list(_videos(data_dir, "test", batch_size=4, repeat=False))
    clips = [(c, a, d) for b in batches
             for c, a, d in zip(b["character"].numpy(), b["action"].numpy(), b["direction"].numpy())]
    assert len(clips) == 36 and len(set(clips)) == 36


def _order(ds, batches=6):
    return [b["character"].numpy().tolist() + b["action"].numpy().tolist()
            for _, b in zip(range(batches), ds)]


def test_shuffle_is_deterministic_given_the_seed(data_dir):
    # Six batches of 20 cross the first epoch's end (72 videos), so the reshuffle is covered too.
    first = _order(_videos(data_dir, batch_size=20, seed=3))
    assert first == _order(_videos(data_dir, batch_size=20, seed=3))
    assert first != _order(_videos(data_dir, batch_size=20, seed=4))
    assert first != _order(_videos(data_dir, batch_size=20, shuffle=False))


def test_bad_arguments_raise_user_errors(data_dir):
    with pytest.raises(UserError, match="num_frames=9"):
        _videos(data_dir, num_frames=9)
    with pytest.raises(UserError, match="unknown split 'validation'"):
        _videos(data_dir, "validation")
    with pytest.raises(UserError, match="unknown dataset 'mnist'"):
        data.videos("mnist", "train", batch_size=2, data_dir=data_dir)
