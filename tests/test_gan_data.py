"""Tests of the GAN input pipeline (`data.gan_inputs`) on synthetic_sprites/tiny16 (72 train videos
of 16 frames) and tiny (8 frames): what the frames and clips streams hold, and the mixed mode (also
on MUG's dummy release, whose takes give several stored clips each)."""

import collections
import pathlib

import numpy as np
import pytest

from rjkeras import data
from rjkeras.errors import UserError

NUM_TRAIN = 72  # 8 characters x 9 (action, direction)
MUG_DUMMY = pathlib.Path(__file__).parent.parent / "datasets" / "mug" / "dummy_data"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("tfds"))
    for config in ("tiny16", "tiny"):
        data.dataset_info("synthetic_sprites", data_dir=path, builder_config=config)  # prepares them once
    return path


@pytest.fixture(scope="module")
def train_videos(data_dir):
    """uint8 (72, 16, 64, 64, 3) videos and their int labels, in the unshuffled order of the split
    (the order the image-only rule numbers them in)."""
    ds = data.videos("synthetic_sprites", "train", data_dir=data_dir, builder_config="tiny16",
                     batch_size=NUM_TRAIN, shuffle=False, repeat=False, drop_remainder=False)
    batch = next(iter(ds))
    return _uint8(batch["video"].numpy()), {key: batch[key].numpy() for key in ("action", "character")}


def _uint8(x):
    """Model-range floats back to the stored uint8 values (exact: x = u / 127.5 - 1)."""
    return np.round((x + 1.0) * 127.5).astype(np.uint8)


def _gan(data_dir, config="tiny16", **kwargs):
    kwargs.setdefault("image_batch_size", 10)
    kwargs.setdefault("video_batch_size", 3)
    kwargs.setdefault("clip_length", 16)
    return data.gan_inputs("synthetic_sprites", "train", data_dir=data_dir, builder_config=config, **kwargs)


def _find_clip(clip, videos):
    """(video, start, stride) of every place where `clip` (L, H, W, 3) is a strided run of a video."""
    length = len(clip)
    found = []
    for v, video in enumerate(videos):
        for stride in (1, 2, 3):
            for start in range(len(video) - (length - 1) * stride):
                if np.array_equal(video[start:start + (length - 1) * stride + 1:stride], clip):
                    found.append((v, start, stride))
    return found


def test_shapes_dtypes_and_ranges(data_dir):
    batch = next(iter(_gan(data_dir, labels=("action", "character"))))
    assert set(batch) == {"frames", "clips", "clip_action", "clip_character"}
    frames, clips = batch["frames"].numpy(), batch["clips"].numpy()
    assert frames.shape == (10, 64, 64, 3) and frames.dtype == np.float32
    assert clips.shape == (3, 16, 64, 64, 3) and clips.dtype == np.float32
    for x in (frames, clips):
        assert -1.0 <= x.min() < -0.5 and 0.5 < x.max() <= 1.0
        np.testing.assert_allclose((x + 1) * 127.5, np.round((x + 1) * 127.5), atol=1e-3)  # uint8 steps
    for key in ("clip_action", "clip_character"):
        assert batch[key].shape == (3,) and batch[key].dtype.name == "int64"
    small = next(iter(_gan(data_dir, "tiny", clip_length=8, image_size=32)))
    assert small["frames"].shape == (10, 32, 32, 3) and small["clips"].shape == (3, 8, 32, 32, 3)
    assert -1.0 <= small["clips"].numpy().min() and small["clips"].numpy().max() <= 1.0


def test_clips_are_strided_runs_of_a_real_video_with_its_labels(data_dir, train_videos):
    videos, labels = train_videos
    starts = set()
    for batch in _gan(data_dir, clip_length=8, clip_stride=2, video_batch_size=4, labels=("action",)).take(6):
        for clip, action in zip(_uint8(batch["clips"].numpy()), batch["clip_action"].numpy()):
            found = _find_clip(clip, videos)
            assert found, "a clip that is no strided run of any training video"
            # Strided by 2: 8 frames span 15 of the 16, so a clip starts at frame 0 or 1.
            assert any(stride == 2 for _, _, stride in found), found
            assert action in {labels["action"][v] for v, _, _ in found}
            starts.update(start for _, start, stride in found if stride == 2)
    assert starts == {0, 1}


def test_clip_starts_are_random_and_the_stride_falls_back(data_dir, train_videos):
    videos, _ = train_videos
    # 5 frames at stride 3 need 13 of the 16 frames: stride 3, starts 0..3.
    starts = set()
    for batch in _gan(data_dir, clip_length=5, clip_stride=3, video_batch_size=8).take(4):
        for clip in _uint8(batch["clips"].numpy()):
            found = [(start, stride) for _, start, stride in _find_clip(clip, videos) if stride == 3]
            assert found
            starts.update(start for start, _ in found)
    assert starts == {0, 1, 2, 3}
    # 8 frames at stride 3 would need 22 frames: stride 1 instead, any start 0..8.
    starts = set()
    for batch in _gan(data_dir, clip_length=8, clip_stride=3, video_batch_size=8).take(4):
        for clip in _uint8(batch["clips"].numpy()):
            found = _find_clip(clip, videos)
            assert found and all(stride == 1 for _, _, stride in found), found
            starts.update(start for _, start, _ in found)
    assert len(starts) >= 6
    # 16 frames of 16-frame videos: the whole video whatever the stride asked for.
    batch = next(iter(_gan(data_dir, clip_length=16, clip_stride=2)))
    for clip in _uint8(batch["clips"].numpy()):
        assert any(np.array_equal(clip, video) for video in videos)


def test_frames_are_drawn_over_all_frames_of_all_videos(data_dir, train_videos):
    videos, _ = train_videos
    where = collections.defaultdict(set)  # frame bytes -> videos holding it
    for v, video in enumerate(videos):
        for frame in video:
            where[frame.tobytes()].add(v)
    # One epoch (no repeat): 72 clips in 36 batches of 2 and 72 x 16 frames in 36 batches of 32.
    ds = _gan(data_dir, image_batch_size=32, video_batch_size=2, repeat=False)
    batches = [_uint8(b["frames"].numpy()) for b in ds]
    assert len(batches) == 36
    seen = collections.Counter(frame.tobytes() for batch in batches for frame in batch)
    assert seen == collections.Counter(frame.tobytes() for video in videos for frame in video)
    # Shuffled across videos, not video by video: the first batch mixes many videos.
    first = set().union(*(where[frame.tobytes()] for frame in batches[0]))
    assert len(first) >= 12


def test_mixed_mode_keeps_image_only_videos_out_of_the_clips(data_dir, train_videos):
    videos, _ = train_videos
    image_only = data.image_only_videos(NUM_TRAIN, 0.5, seed=5)
    assert image_only.sum() == data.image_only_count(NUM_TRAIN, 0.5) == 36
    # The split follows split_seed only: reseeding the streams (as a resumed run does) keeps it.
    for seed in (0, 1):
        # One epoch: clips of whole videos, one a batch (36 batches), and 36 x 32 frames.
        ds = _gan(data_dir, image_fraction=0.5, split_seed=5, seed=seed, image_batch_size=32,
                  video_batch_size=1, repeat=False)
        batches = list(ds)
        assert len(batches) == 36
        clips = collections.Counter(_uint8(b["clips"].numpy()[0]).tobytes() for b in batches)
        # The clips stream holds exactly the other 36 videos, each once.
        assert clips == collections.Counter(videos[v].tobytes() for v in np.flatnonzero(~image_only))
        # The frames stream draws from both sets: all 72 x 16 frames (36 batches x 32), each once.
        frames = collections.Counter(frame.tobytes() for b in batches
                                     for frame in _uint8(b["frames"].numpy()))
        assert frames == collections.Counter(frame.tobytes() for video in videos for frame in video)
        for subset in (image_only, ~image_only):
            assert any(frames[frame.tobytes()] for video in videos[subset] for frame in video)


def test_image_only_rule():
    assert [data.image_only_count(n, f) for n, f in ((72, 0.5), (3, 0.5), (9000, 0.5), (10, 0.25),
                                                     (10, 0.0))] == [36, 2, 4500, 3, 0]
    first = data.image_only_videos(9000, 0.5, seed=0)
    assert first.dtype == bool and first.shape == (9000,) and first.sum() == 4500
    np.testing.assert_array_equal(first, data.image_only_videos(9000, 0.5, seed=0))  # stable
    assert 0.4 < np.mean(first[~data.image_only_videos(9000, 0.5, seed=1)]) < 0.6  # seeds differ
    assert not data.image_only_videos(72, 0.0, seed=0).any()
    # A larger share adds videos to the image-only set, never swaps them.
    assert np.all(data.image_only_videos(72, 0.75, seed=0) >= data.image_only_videos(72, 0.5, seed=0))


def _first_batches(ds, n=4):
    return [{k: v.numpy() for k, v in b.items()} for b in ds.take(n)]


def test_deterministic_given_the_seed(data_dir):
    def run(seed):
        ds = _gan(data_dir, clip_length=8, image_fraction=0.5, seed=seed, labels=("action",))
        return _first_batches(ds)

    first, again, other = run(3), run(3), run(4)
    for a, b in zip(first, again):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    assert any(not np.array_equal(a[key], b[key]) for a, b in zip(first, other) for key in a)


def test_bad_arguments_raise_user_errors(data_dir):
    with pytest.raises(UserError, match="^clip_length=16 but synthetic_sprites/tiny has 8-frame videos"):
        _gan(data_dir, "tiny", clip_length=16)
    with pytest.raises(UserError, match=r"image_fraction=1.0 must be in \[0, 1\)"):
        _gan(data_dir, image_fraction=1.0)
    with pytest.raises(UserError, match="video_batch_size=0 must be >= 1"):
        _gan(data_dir, video_batch_size=0)
    with pytest.raises(UserError, match="clip_stride=0 must be >= 1"):
        _gan(data_dir, clip_stride=0)
    with pytest.raises(UserError, match="unknown label 'emotion'"):
        _gan(data_dir, labels=("emotion",))
    with pytest.raises(UserError, match="unknown split 'validation'"):
        data.gan_inputs("synthetic_sprites", "validation", data_dir=data_dir, builder_config="tiny16",
                        image_batch_size=2, video_batch_size=2, clip_length=8)
    with pytest.raises(UserError, match="leaves no video"):
        data.gan_inputs("synthetic_sprites", "train[:1]", data_dir=data_dir, builder_config="tiny16",
                        image_batch_size=2, video_batch_size=2, clip_length=8, image_fraction=0.5)


def test_the_image_gan_reads_frames_only_over_all_frames(data_dir, train_videos):
    """The image-only GAN's input decodes no clips: {"frames"} batches, S_1 over every frame."""
    from rjkeras import config as config_lib
    from rjkeras import trainer

    config = config_lib.resolve("image_gan", "synthetic_sprites", size="tiny", overrides={
        "data.data_dir": data_dir, "data.builder_config": "tiny16", "data.image_size": 64,
        "model.image_batch_size": 32})
    ds = trainer.training_input(config, seed=0)
    batches = [_uint8(b["frames"].numpy()) for b in ds.take(72 * 16 // 32)]  # one epoch's worth
    assert set(next(iter(ds))) == {"frames"} and batches[0].shape == (32, 64, 64, 3)
    videos, _ = train_videos
    all_frames = {frame.tobytes() for video in videos for frame in video}
    seen = [frame.tobytes() for batch in batches for frame in batch]
    assert set(seen) <= all_frames and len(set(seen)) > 0.5 * len(all_frames)


@pytest.fixture(scope="module")
def mug_dir(tmp_path_factory):
    """MUG's dummy release prepared: 4 raw training takes of 2 overlapping 16-frame clips each."""
    path = str(tmp_path_factory.mktemp("mug"))
    data.dataset_info("mug", data_dir=path, manual_dir=str(MUG_DUMMY))
    return path


def test_the_mixture_is_split_by_raw_video_not_by_stored_clip(mug_dir):
    raw_ids = data.raw_video_ids(data.prepare("mug", data_dir=mug_dir), "train")
    assert len(raw_ids) == 8 and len(set(raw_ids)) == 4  # 2 clips of each take
    for split_seed in range(6):
        ds = data.gan_inputs("mug", "train", data_dir=mug_dir, manual_dir=str(MUG_DUMMY),
                             image_batch_size=4, video_batch_size=1, clip_length=16, repeat=False,
                             image_fraction=0.5, split_seed=split_seed, labels=(data.RAW_VIDEO,))
        clip_ids = [int(b[f"clip_{data.RAW_VIDEO}"][0]) for b in ds]
        # 2 of the 4 takes give clips, each both of its clips; the other 2 give none: no take
        # whose frames are image-only reaches D_V (a split per stored clip would cut across takes).
        assert sorted(collections.Counter(clip_ids).values()) == [2, 2], (split_seed, clip_ids)
        image_only, chosen, num_raw = data.image_only_examples(raw_ids, 8, 0.5, split_seed)
        assert (chosen, num_raw) == (2, 4)
        assert set(clip_ids) == set(raw_ids[~image_only]).difference(raw_ids[image_only])


def test_without_raw_ids_each_stored_video_is_its_own():
    image_only, chosen, num_raw = data.image_only_examples(None, 72, 0.5, seed=5)
    np.testing.assert_array_equal(image_only, data.image_only_videos(72, 0.5, seed=5))
    assert (chosen, num_raw) == (36, 72)
