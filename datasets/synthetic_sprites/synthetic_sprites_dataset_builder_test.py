"""Tests of the synthetic_sprites builder: the TFDS harness on `tiny`, then what the drawings show."""

import hashlib
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
    BUILDER_CONFIG_NAMES_TO_TEST = ["tiny", "tiny16"]
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
    with pytest.raises(UserError, match="num_frames=1 must be in"):
        synthetic.SyntheticSpritesConfig(name="bad", num_characters=12, num_test_characters=4, num_frames=1)
    with pytest.raises(TypeError):  # keyword-only
        synthetic.SyntheticSpritesConfig("bad", None, None, [], None, [], 12)


# ---------------------------------------------------------------------------------------------
# Video length: the 8-frame configs are frozen; the 16-frame ones draw the same motions finer.


def test_eight_frame_drawing_is_unchanged():
    # Digests of the 8-frame data as first released (VERSION 1.0.0): every body shape's label maps,
    # and the tiny test split (palettes, keys, order). A change here needs a new VERSION.
    digest = hashlib.sha256()
    for hair, top, bottom in itertools.product(synthetic.HAIR_STYLES, synthetic.TOP_STYLES[:3],
                                               synthetic.BOTTOM_STYLES[:3]):
        digest.update(synthetic.label_maps(hair, top, bottom).tobytes())
    assert digest.hexdigest() == "d65aa26f01e19a1d742e7e54d17c1c6c35ee9efaa2dcabb9ee5023ac89ccfca2"
    digest = hashlib.sha256()
    for key, example in _examples(TINY, "test"):
        digest.update(key.encode())
        digest.update(example["video"].tobytes())
    assert digest.hexdigest() == "8bc61f6f7bb78f145b97a1bc2223c0728bfa39274d648cd13aa948c502435930"


def test_sixteen_frame_configs():
    configs = {c.name: c for c in synthetic.Builder.BUILDER_CONFIGS}
    assert {name: c.num_frames for name, c in configs.items()} == {
        "default": 8, "small": 8, "tiny": 8, "frames16": 16, "small16": 16, "tiny16": 16}
    # Same characters and splits as their 8-frame counterparts: only the length differs.
    for short, long in (("default", "frames16"), ("small", "small16"), ("tiny", "tiny16")):
        assert (configs[short].num_characters, configs[short].num_test_characters, configs[short].seed) == (
            configs[long].num_characters, configs[long].num_test_characters, configs[long].seed)
    assert synthetic.Builder(config="tiny16").info.features["video"].shape == (16, 64, 64, 3)
    assert synthetic.Builder(config="tiny").info.features["video"].shape == (8, 64, 64, 3)


def test_sixteen_frames_are_a_finer_cycle_not_a_repeat():
    short = synthetic.render_character((1, 2, 3, 4), 0, seed=0)
    long = synthetic.render_character((1, 2, 3, 4), 0, seed=0, num_frames=16)
    assert long.shape == (3, 3, 16, 64, 64, 3)
    walk = synthetic.ACTIONS.index("walk")
    # The walk is one stride over the clip: every other of the 16 frames is a frame of the 8.
    np.testing.assert_array_equal(long[walk, :, ::2], short[walk])
    for a, d in itertools.product(range(3), range(3)):
        clip = long[a, d]
        steps = np.any(clip[1:] != clip[:-1], axis=(1, 2, 3))
        # Moves at (almost) every step: not 8 frames each shown twice (spellcast holds its peak once).
        assert steps.sum() >= 14, (synthetic.ACTIONS[a], synthetic.DIRECTIONS[d], steps)
        # Spans the whole motion: the clip does not end where the 8-frame clip's middle is.
        assert not np.array_equal(clip[:8], short[a, d]) or a == walk
        # The same character: same colours, same first pose.
        np.testing.assert_array_equal(clip[0], short[a, d, 0])
    # The slash reaches its key poses: first and last frames are those of the 8-frame clip.
    slash = synthetic.ACTIONS.index("slash")
    np.testing.assert_array_equal(long[slash, :, -1], short[slash, :, -1])
