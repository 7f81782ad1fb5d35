"""Tests of the synthetic_sprites builder: the TFDS harness on `tiny`, then what the drawings show."""

import itertools
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from rjkeras.datasets.synthetic_sprites import synthetic_sprites_dataset_builder as synthetic
from rjkeras.errors import UserError

TINY = synthetic.SyntheticSpritesConfig(name="tiny_test", num_characters=12, num_test_characters=4, seed=0)
LEFT, FRONT, RIGHT = (synthetic.DIRECTIONS.index(d) for d in ("left", "front", "right"))


class SyntheticSpritesTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = synthetic.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["tiny"]
    SPLITS = {"train": 8 * 9, "test": 4 * 9}
    # Nothing is downloaded; the harness only needs an existing folder to mock downloads into.
    EXAMPLE_DIR = os.path.dirname(__file__)


def _examples(config, split):
    return list(synthetic.generate_examples(config, split))


def test_same_seed_same_videos_different_seed_different():
    first, again = _examples(TINY, "test"), _examples(TINY, "test")
    assert [k for k, _ in first] == [k for k, _ in again]
    for (_, a), (_, b) in zip(first, again):
        np.testing.assert_array_equal(a["video"], b["video"])
    other = synthetic.SyntheticSpritesConfig(name="other", num_characters=12, num_test_characters=4, seed=1)
    videos = np.stack([e["video"] for _, e in first])
    other_videos = np.stack([e["video"] for _, e in _examples(other, "test")])
    assert not np.array_equal(videos, other_videos)


def test_splits_by_character_with_all_nine_clips():
    clips = {}
    for split in ("train", "test"):
        for _, e in _examples(TINY, split):
            clips.setdefault(split, {}).setdefault(e["character"], set()).add((e["action"], e["direction"]))
    assert len(clips["train"]) == 8 and len(clips["test"]) == 4
    assert not set(clips["train"]) & set(clips["test"])
    nine = set(itertools.product(synthetic.ACTIONS, synthetic.DIRECTIONS))
    assert all(v == nine for split in clips.values() for v in split.values())


def test_characters_are_distinct_and_balanced():
    chars = synthetic.make_characters(12, seed=0)
    assert len(np.unique(chars, axis=0)) == 12
    for attribute in range(4):
        np.testing.assert_array_equal(np.bincount(chars[:, attribute], minlength=6), [2] * 6)
    full = synthetic.make_characters(1296, seed=0)
    assert len(np.unique(full, axis=0)) == 1296


def _motion(video):
    """(64, 64) share of frame steps in which each pixel changes: where the motion is."""
    return np.mean(np.any(video[1:] != video[:-1], axis=-1), axis=0)


def test_every_clip_moves_over_all_frames():
    videos = synthetic.render_character((1, 2, 3, 4), 0, seed=0)  # (3, 3, 8, 64, 64, 3)
    for a, d in itertools.product(range(3), range(3)):
        steps = np.any(videos[a, d, 1:] != videos[a, d, :-1], axis=(1, 2, 3))
        assert steps.sum() >= 6, (synthetic.ACTIONS[a], synthetic.DIRECTIONS[d], steps)


def test_actions_are_told_apart_by_their_motion():
    # A nearest-neighbour classifier on motion maps, across two characters that share nothing,
    # must find each action: the motion pattern belongs to the action, not to the character.
    one = synthetic.render_character((0, 1, 2, 3), 0, seed=0)
    two = synthetic.render_character((3, 4, 5, 0), 1, seed=0)
    for d in range(3):
        for a in range(3):
            distances = [np.abs(_motion(one[a, d]) - _motion(two[b, d])).sum() for b in range(3)]
            assert np.argmin(distances) == a, (synthetic.DIRECTIONS[d], synthetic.ACTIONS[a], distances)


def test_left_mirrors_right_and_front_differs():
    videos = synthetic.render_character((5, 4, 3, 2), 0, seed=0)
    np.testing.assert_array_equal(videos[:, LEFT], videos[:, RIGHT, :, :, ::-1])
    for a in range(3):
        differ = np.mean(np.any(videos[a, FRONT] != videos[a, LEFT], axis=-1))
        assert differ > 0.05, (synthetic.ACTIONS[a], differ)
        # A profile is not symmetric: left and right are not the same picture.
        assert np.mean(np.any(videos[a, LEFT] != videos[a, RIGHT], axis=-1)) > 0.03


@pytest.mark.parametrize("attribute, part", [(0, synthetic.SKIN), (1, synthetic.BOTTOM),
                                              (2, synthetic.TOP), (3, synthetic.HAIR)])
def test_attribute_values_look_different(attribute, part):
    base = [1, 1, 1, 1]
    frames, colours = [], []
    for value in range(6):
        attributes = list(base)
        attributes[attribute] = value
        frame = synthetic.render_character(attributes, 7, seed=0)[0, FRONT, 0]  # one frame suffices
        labels = synthetic.label_maps(*synthetic.styles(attributes))[0, FRONT, 0]
        frames.append(frame)
        colours.append(frame[labels == part].mean(axis=0))
    for i, j in itertools.combinations(range(6), 2):
        assert np.linalg.norm(colours[i] - colours[j]) > 30, (attribute, i, j)
        assert np.mean(np.any(frames[i] != frames[j], axis=-1)) > 0.01


def test_config_arguments_are_validated():
    with pytest.raises(UserError, match="num_characters=1"):
        synthetic.SyntheticSpritesConfig(name="bad", num_characters=1)
    with pytest.raises(UserError, match="num_test_characters=12"):
        synthetic.SyntheticSpritesConfig(name="bad", num_characters=12, num_test_characters=12)
    with pytest.raises(TypeError):  # keyword-only
        synthetic.SyntheticSpritesConfig("bad", None, None, [], None, [], 12)
