"""rjkeras.figures on tiny untrained models: which files, their grid arithmetic, GIF frames."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from rjkeras import config as config_lib
from rjkeras import runs
from rjkeras import trainer
from rjkeras.errors import UserError
from rjkeras.eval import figures
from rjkeras.models import build_model, compile_model
from rjkeras.runs import open_generator as load_generator

GAP = figures.GAP
NUM, LENGTH = 2, 3


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("tfds"))


def make_workdir(model, data_dir, path):
    """A work dir holding a tiny model's initial weights as checkpoint 1."""
    config = config_lib.resolve(model, "synthetic_sprites", size="tiny", overrides={
        "data.builder_config": "tiny", "data.data_dir": data_dir})
    runs.write_config(str(path), config)
    instance = compile_model(build_model(config), config)
    trainer.checkpoint_manager(instance, str(path)).save(checkpoint_number=1)
    return str(path), config.data.image_size


def run(model, output, **options):
    return figures.run(figures.Options(model=model, output=str(output), num=NUM, length=LENGTH, **options))


def grid_shape(rows, columns, size, first_column=False):
    extra = size + 3 * GAP if first_column else 0
    return (rows * (size + GAP) - GAP, extra + columns * (size + GAP) - GAP, 3)


def png(path):
    return np.asarray(Image.open(path).convert("RGB"))


def gif_frames(path):
    image = Image.open(path)
    return image.n_frames, image.size[::-1]


def test_rjgan_figures_and_tensorboard(data_dir, tmp_path, capsys):
    workdir, size = make_workdir("rjgan", data_dir, tmp_path / "rjgan")
    baseline, _ = make_workdir("image_gan", data_dir, tmp_path / "image_gan")
    written = run(workdir, tmp_path / "out", baseline=baseline, tensorboard=True)
    assert sorted(written) == ["images.png", "images_vs_baseline.png", "interpolation.gif",
                               "interpolation.png", "summary_frames.gif", "summary_frames.png"]
    printed = capsys.readouterr().out
    for path in written.values():
        assert path in printed

    grid = png(written["summary_frames.png"])
    assert grid.shape == grid_shape(NUM, LENGTH, size, first_column=True)
    out = load_generator(workdir).signatures["generate_videos"](
        num_videos=np.int32(NUM), length=np.int32(LENGTH), seed=np.int64(0))
    summary = out["summary_frames"].numpy()
    for i in range(NUM):  # the first column is the signature's summary frames, the rest its frames
        top = i * (size + GAP)
        np.testing.assert_array_equal(grid[top:top + size, :size], summary[i])
        left = size + 3 * GAP
        np.testing.assert_array_equal(grid[top:top + size, left:left + size], out["videos"].numpy()[i, 0])
    # The GIF: a still row of summary frames above the NUM videos, one GIF frame a time step.
    assert gif_frames(written["summary_frames.gif"]) == (LENGTH, grid_shape(2, NUM, size)[:2])

    assert png(written["interpolation.png"]).shape == grid_shape(NUM, LENGTH, size, first_column=True)
    assert gif_frames(written["interpolation.gif"]) == (LENGTH, grid_shape(2, NUM, size)[:2])
    images = grid_shape(NUM, NUM, size)
    assert png(written["images.png"]).shape == images
    assert png(written["images_vs_baseline.png"]).shape == (2 * images[0] + 3 * GAP,) + images[1:]
    np.testing.assert_array_equal(png(written["images_vs_baseline.png"])[:images[0]],
                                  png(written["images.png"]))

    import tensorflow as tf

    events = list((tmp_path / "rjgan" / "tensorboard" / "figures").glob("events.*"))
    assert len(events) == 1
    values = [value for event in tf.compat.v1.train.summary_iterator(str(events[0]))
              for value in event.summary.value]
    assert {v.tag for v in values} == ({f"figures/{name[:-4]}" for name in written if name.endswith(".png")}
                                       | {f"figures_animated/{name[:-4]}" for name in written if name.endswith(".gif")})
    for value in values:  # the GIFs as TensorBoard's image plugin reads them: [width, height, bytes]
        if value.tag.startswith("figures_animated/"):
            width, height, encoded = tf.make_ndarray(value.tensor)
            gif = Image.open(io.BytesIO(encoded))
            assert value.metadata.plugin_data.plugin_name == "images"
            assert gif.format == "GIF" and gif.size == (int(width), int(height))
            assert (gif.n_frames, gif.size[::-1]) == gif_frames(written[value.tag.split("/")[1] + ".gif"])


def test_rmocogan_fixed_content(data_dir, tmp_path):
    workdir, size = make_workdir("rmocogan", data_dir, tmp_path / "rmocogan")
    written = run(workdir, tmp_path / "out", figures="summary_frames,fixed_content")
    assert sorted(written) == ["fixed_content.png", "videos.gif", "videos.png"]  # no summary frames
    assert png(written["videos.png"]).shape == grid_shape(NUM, LENGTH, size)
    assert gif_frames(written["videos.gif"]) == (LENGTH, grid_shape(1, NUM, size)[:2])
    assert png(written["fixed_content.png"]).shape == grid_shape(2 * (NUM // 2), LENGTH, size)


def test_rjvae_inference_from_the_work_dirs_dataset(data_dir, tmp_path):
    workdir, size = make_workdir("rjvae", data_dir, tmp_path / "rjvae")
    written = run(workdir, tmp_path / "out", figures="inference,summary_frames")
    assert sorted(written) == ["inference.png", "summary_frames.gif", "summary_frames.png"]
    assert png(written["inference.png"]).shape == grid_shape(2 * NUM, LENGTH, size)


def test_errors_are_one_line_user_errors(data_dir, tmp_path):
    image_gan, _ = make_workdir("image_gan", data_dir, tmp_path / "image_gan")
    with pytest.raises(UserError, match="serves no generate_videos"):
        run(image_gan, tmp_path / "out", figures="summary_frames")
    with pytest.raises(UserError, match="--figures=fvd: choose from"):
        run(image_gan, tmp_path / "out", figures="fvd")
    with pytest.raises(UserError, match="not found"):
        run(str(tmp_path / "missing"), tmp_path / "out")
    # An image-only model makes its image figure, and only that, by default.
    assert sorted(run(image_gan, tmp_path / "out")) == ["images.png"]


def test_cli_prints_one_line_errors_and_exits_2(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-m", "rjkeras.figures", f"--output={tmp_path}"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --model is required: a training work dir (latest checkpoint) or a SavedModel folder")
