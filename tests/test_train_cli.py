"""The user's path, end to end in subprocesses: train -> TensorBoard -> resume -> export -> load.

Tiny networks (`--size=tiny`) on the tiny built-in dataset; every other flag is the default.
"""

import io
import json
import os
import subprocess
import sys

import forkserver
import numpy as np
import pytest
from testing_utils import assert_one_line_error
import tensorflow as tf

from rjkeras import config as config_lib
from rjkeras import trainer
from rjkeras.models import build_model, compile_model

pytestmark = pytest.mark.slow


run = forkserver.run_module


def train(*args):
    return run("rjkeras.train", *args)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("tfds"))


def tensorboard_events(workdir):
    """{tag: sorted steps} of every summary in the run's TensorBoard logs."""
    tags = {}
    logdir = os.path.join(workdir, "tensorboard", "train")
    for name in os.listdir(logdir):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(logdir, name)):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(event.step)
    return {tag: sorted(steps) for tag, steps in tags.items()}


def animated_panels(workdir):
    """{tag: (width, height, the decoded GIF)} of the last step's animated panels, read back from
    the event files as TensorBoard's image plugin reads them."""
    from PIL import Image

    gifs = {}
    logdir = os.path.join(workdir, "tensorboard", "train")
    for name in sorted(os.listdir(logdir)):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(logdir, name)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "images" and value.tag.startswith("animated/"):
                    width, height, encoded = tf.make_ndarray(value.tensor)
                    gifs[value.tag] = (int(width), int(height), Image.open(io.BytesIO(encoded)))
    return gifs


MODELS = ["rjvae", "dsa", "rjgan", "mocogan", "rmocogan", "image_gan"]
SIGNATURES = {  # what each model's SavedModel serves
    "rjvae": {"generate_videos", "generate_images", "reconstruct", "encode"},
    "dsa": {"generate_videos", "generate_images", "reconstruct", "encode"},
    "rjgan": {"generate_videos", "generate_images", "interpolate"},
    "mocogan": {"generate_videos", "generate_images", "interpolate", "generate_with_content"},
    "rmocogan": {"generate_videos", "generate_images", "interpolate", "generate_with_content"},
    "image_gan": {"generate_images"},
}
SCALARS = {
    "rjvae": ["loss", "loss/reconstruction", "loss/kl_summary", "loss/kl_residual"],
    "dsa": ["loss", "loss/reconstruction", "loss/kl_static", "loss/kl_dynamic"],
    "image_gan": ["discriminator/image_loss", "discriminator/image_real", "discriminator/image_fake",
                  "generator/loss", "generator/image_loss"],
}
for _gan in ("rjgan", "mocogan", "rmocogan"):
    SCALARS[_gan] = SCALARS["image_gan"] + ["discriminator/video_loss", "discriminator/video_real",
                                            "discriminator/video_fake", "generator/video_loss"]
SCALARS["rjgan"] += ["discriminator/summary_fake", "generator/summary_loss"]
PANELS = {
    "rjvae": ["samples/videos_with_summary_frames", "reconstructions"],
    "dsa": ["samples/videos", "reconstructions"],
    "rjgan": ["samples/videos_with_summary_frames"],
    "mocogan": ["samples/videos", "samples/fixed_content_varied_motion"],
    "rmocogan": ["samples/videos", "samples/fixed_content_varied_motion"],
    "image_gan": ["samples/images"],
}
ARGUMENTS = {  # keyword arguments of each signature in the round trip
    "generate_videos": dict(num_videos=("int32", 3), length=("int32", 12), seed=("int64", 7)),
    "generate_images": dict(num_images=("int32", 4), seed=("int64", 7)),
    "interpolate": dict(seed_a=("int64", 1), seed_b=("int64", 2), steps=("int32", 3), length=("int32", 5)),
    "generate_with_content": dict(num_videos=("int32", 2), length=("int32", 5), content_seed=("int64", 3),
                                  motion_seed=("int64", 4)),
    "reconstruct": dict(videos="real"),
    "encode": dict(videos="real"),
}


@pytest.fixture(scope="module", params=MODELS)
def trained(request, data_dir, tmp_path_factory):
    """A tiny run of each model, first stopped at step 10, then resumed to 20 by the same command."""
    model = request.param
    workdir = str(tmp_path_factory.mktemp(f"{model}_run"))
    common = [f"--model={model}", "--size=tiny", "--dataset_config=tiny", f"--data_dir={data_dir}",
              f"--workdir={workdir}"]
    first = train(*common, "--steps=10")
    assert first.returncode == 0, first.stderr
    second = train(*common)  # the tiny size's own train.steps = 20
    assert second.returncode == 0, second.stderr
    return model, workdir, common, first, second


def test_training_writes_config_checkpoints_and_tensorboard(trained):
    model, workdir, _, first, second = trained
    saved = json.load(open(os.path.join(workdir, "config.json")))
    assert saved["model_name"] == model and saved["data"]["dataset"] == "synthetic_sprites"
    assert saved["train"]["steps"] == 20
    assert "step 10/10 (100%)" in first.stderr and "step 20/20 (100%)" in second.stderr
    checkpoints = tf.train.get_checkpoint_state(os.path.join(workdir, "checkpoints"))
    assert checkpoints.model_checkpoint_path.endswith("ckpt-20")

    events = tensorboard_events(workdir)
    for term in SCALARS[model] + ["speed/steps_per_second"]:
        assert events.get(term) == [5, 10, 15, 20], (term, events.get(term))  # no duplicated steps
    for panel in PANELS[model]:
        assert events.get(panel) == [10, 20], (panel, sorted(events))
    # Every video panel also plays, as an animated GIF image summary.
    gifs = animated_panels(workdir)
    still = [tag for tag in events if tag.startswith("samples/") or tag == "reconstructions"]
    expected = {"animated/" + tag.split("/")[-1] for tag in still if tag != "samples/images"}
    assert set(gifs) == expected, sorted(gifs)
    for tag, (width, height, frames) in gifs.items():
        assert frames.format == "GIF" and frames.size == (width, height), tag
        assert 2 <= frames.n_frames <= 8, (tag, frames.n_frames)  # 8-frame clips: one GIF frame a step


def test_rerun_resumes_at_the_checkpoint_step(trained):
    model, workdir, common, _, second = trained
    assert "resumed from" in second.stderr and "at step 10" in second.stderr
    assert "step 15/20" in second.stderr and "step 5/" not in second.stderr
    third = train(*common)
    assert third.returncode == 0, third.stderr
    assert "already trained for 20 steps" in third.stderr
    # The restored optimizer carries the step counter on.
    config = config_lib.load_workdir_config(workdir)
    restored = compile_model(build_model(config), config)
    assert trainer.restore(restored, workdir) == 20


def test_other_config_in_same_workdir_is_refused(trained):
    _, _, common, _, _ = trained
    assert_one_line_error(train(*common, "--image_size=32"), "different config",
                          "data.image_size 16 -> 32")


def test_export_round_trip_in_a_fresh_process(trained, tmp_path):
    model_name, workdir, _, _, _ = trained
    result = run("rjkeras.export", f"--workdir={workdir}", f"--output={tmp_path / 'sm'}")
    assert result.returncode == 0, result.stderr
    path = str(tmp_path / "sm")

    # The in-memory model at the same checkpoint.
    config = config_lib.load_workdir_config(workdir)
    model = compile_model(build_model(config), config)
    trainer.restore(model, workdir, expect_partial=True)
    from rjkeras.export.module import GeneratorModule
    module = GeneratorModule(model, config.data.image_size)
    assert set(module.signatures()) == SIGNATURES[model_name]
    real = np.random.default_rng(0).integers(0, 256, (2, 8, 16, 16, 3), dtype=np.uint8)
    np.save(tmp_path / "real.npy", real)

    def arguments(signature, real):
        return {name: real if spec == "real" else tf.constant(spec[1], getattr(tf, spec[0]))
                for name, spec in ARGUMENTS[signature].items()}

    expected = {name: getattr(module, name)(**arguments(name, tf.constant(real)))
                for name in SIGNATURES[model_name]}

    # A process that imports TensorFlow only.
    script = f"""
import sys, numpy as np, tensorflow as tf
m = tf.saved_model.load({path!r})
real = tf.constant(np.load({str(tmp_path / 'real.npy')!r}))
ARGUMENTS = {ARGUMENTS!r}
out = {{}}
for name, function in m.signatures.items():
    kwargs = {{k: real if v == "real" else tf.constant(v[1], getattr(tf, v[0]))
              for k, v in ARGUMENTS[name].items()}}
    out.update({{f"{{name}}.{{k}}": v.numpy() for k, v in function(**kwargs).items()}})
np.savez({str(tmp_path / 'out.npz')!r}, **out)
assert not any(name.startswith("rjkeras") for name in sys.modules), "loaded rjkeras"
"""
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            cwd=str(tmp_path))
    assert loaded.returncode == 0, loaded.stderr
    got = np.load(tmp_path / "out.npz")
    assert set(got.files) == {f"{k}.{n}" for k, d in expected.items() for n in d}
    for signature, outputs in expected.items():
        for name, value in outputs.items():
            np.testing.assert_allclose(got[f"{signature}.{name}"], value.numpy(), atol=1e-5,
                                       err_msg=f"{signature}/{name}")
    if "generate_videos" in expected:
        videos = got["generate_videos.videos"]
        assert videos.shape == (3, 12, 16, 16, 3) and videos.dtype == np.uint8
        assert ("generate_videos.summary_frames" in got.files) == (model_name in ("rjvae", "rjgan"))
    assert got["generate_images.images"].shape == (4, 16, 16, 3)
    if "reconstruct" in expected:
        assert got["reconstruct.videos"].shape == real.shape
    if "interpolate" in expected:
        assert got["interpolate.videos"].shape == (3, 5, 16, 16, 3)
    if "generate_with_content" in expected:
        assert got["generate_with_content.videos"].shape == (2, 5, 16, 16, 3)


@pytest.mark.parametrize("args,fragments", [
    (["--model=nosuch"], ["unknown model 'nosuch'", "rjvae"]),
    (["--dataset=nosuch"], ["nosuch"]),
    (["--dataset=sprites", "--size=tiny"], ["sprites", "--manual_dir"]),
    (["--set=train.nosuch=1"], ["unknown config key 'train.nosuch'"]),
    (["--set=train.steps=ten"], ["train.steps", "int"]),
    (["--image_size=20"], ["data.image_size=20", "multiple of 8"]),
    (["--size=tiny", "--set=model.residual_dim=3"], ["residual_dim", "summary_dim"]),
    (["--model=mocogan", "--init_from=/some/run"], ["MoCoGAN cannot start from a pre-trained"]),
    (["--model=rjgan", "--image_size=18"], ["data.image_size=18", "base * 2^n"]),
    (["--model=rjgan", "--image_fraction=1.5"], ["data.image_fraction=1.5"]),
    (["--model=rjvae", "--set=model.category_dim=3"], ["unknown config key 'model.category_dim'"]),
    (["--model=rjgan", "--size=tiny", "--dataset_config=tiny", "--set=model.clip_length=16"],
     ["clip_length=16", "8-frame videos"]),
    (["--model=rjgan", "--size=tiny", "--dataset_config=tiny", "--init_from=/no/such/run"],
     ["/no/such/run/config.json not found"]),
    (["--config=nosuch"], ["unknown preset 'nosuch'", "rjvae_synthetic_sprites"]),
    (["--config=/no/such/preset.json"], ["cannot read config /no/such/preset.json"]),
    (["--set=oops"], ["--set expects key=value", "'oops'"]),
    (["--stepz=3"], ["Unknown command line flag 'stepz'"]),
    (["--size=huge"], ["--size", "huge"]),
    (["--size=tiny", "unexpected"], ["unexpected arguments unexpected"]),
    (["--model=rjgan", "--set=model.category_dim=3"], ["category_dim > 0 (z_A) is MoCoGAN's"]),
    # against the prepared data
    (["--size=tiny", "--dataset_config=huge"],
     ["unknown config 'huge' of dataset 'synthetic_sprites'", "tiny"]),
    (["--size=tiny", "--dataset_config=tiny", "--batch_size=1000"],
     ["train.batch_size=1000 exceeds the 72 training videos"]),
    (["--size=tiny", "--dataset_config=tiny", "--set=data.num_frames=16"],
     ["data.num_frames=16", "8-frame videos"]),
    (["--model=mocogan", "--size=tiny", "--dataset_config=tiny", "--set=model.category_dim=3",
      "--set=model.category_label=colour"], ["category_label='colour'", "unknown label", "action"]),
])
def test_bad_input_is_one_clear_line(args, fragments, data_dir, tmp_path):
    result = train(f"--data_dir={data_dir}", f"--workdir={tmp_path / 'run'}", *args)
    assert_one_line_error(result, *fragments)


@pytest.mark.parametrize("model", ["mocogan", "rjgan", "rmocogan"])
def test_video_gans_train_on_16_frame_clips(model, data_dir, tmp_path):
    """MoCoGAN's own setting: 16-frame clips for D_V (here from the 16-frame synthetic data)."""
    workdir = tmp_path / "run"
    result = train(f"--model={model}", "--size=tiny", "--dataset_config=tiny16", f"--data_dir={data_dir}",
                   f"--workdir={workdir}", "--set=model.clip_length=16", "--steps=5")
    assert result.returncode == 0, result.stderr
    assert "step 5/5 (100%)" in result.stderr
    events = tensorboard_events(str(workdir))
    assert events["discriminator/video_loss"] == [5]


def test_rjgan_trains_on_a_one_to_one_image_video_mixture(data_dir, tmp_path):
    """The paper's mixed-data protocol: half the videos broken into single frames."""
    result = train("--model=rjgan", "--size=tiny", "--dataset_config=tiny", f"--data_dir={data_dir}",
                   f"--workdir={tmp_path / 'run'}", "--image_fraction=0.5", "--steps=5")
    assert result.returncode == 0, result.stderr
    saved = json.load(open(tmp_path / "run" / "config.json"))
    assert saved["data"]["image_fraction"] == 0.5


def test_rjgan_pretrained_from_an_image_gan_run(data_dir, tmp_path):
    common = ["--size=tiny", "--dataset_config=tiny", f"--data_dir={data_dir}", "--steps=5"]
    images = train("--model=image_gan", f"--workdir={tmp_path / 'images'}", *common)
    assert images.returncode == 0, images.stderr
    videos = train("--model=rjgan", f"--workdir={tmp_path / 'videos'}",
                   f"--init_from={tmp_path / 'images'}", *common)
    assert videos.returncode == 0, videos.stderr
    assert "initialised image_generator and image_discriminator from" in videos.stderr


def test_a_nan_stops_training_and_keeps_the_last_good_checkpoint(data_dir, tmp_path):
    common = ["--model=rjvae", "--size=tiny", "--dataset_config=tiny", f"--data_dir={data_dir}",
              f"--workdir={tmp_path}"]
    assert train(*common, "--steps=10").returncode == 0
    diverging = train(*common, "--steps=20", "--set=train.learning_rate=1e30")
    assert_one_line_error(diverging, "non-finite loss term(s)", "loss=nan",
                          "last good checkpoint (step 10) is kept")
    assert "step 11:" in diverging.stderr or "step 12:" in diverging.stderr
    state = tf.train.get_checkpoint_state(os.path.join(tmp_path, "checkpoints"))
    assert state.model_checkpoint_path.endswith("ckpt-10")
    reader = tf.train.load_checkpoint(state.model_checkpoint_path)
    for name in reader.get_variable_to_shape_map():
        value = reader.get_tensor(name)
        if np.issubdtype(np.asarray(value).dtype, np.floating):
            assert np.all(np.isfinite(value)), name


def test_the_config_sets_how_many_ops_run_at_once(data_dir, tmp_path):
    # The 64x64 VAE presets set 1 (rjkeras.runtime.limit_concurrent_ops); the trainer applies it
    # before TensorFlow's first op, where it can still take effect.
    result = train("--model=dsa", "--size=tiny", "--dataset_config=tiny", f"--data_dir={data_dir}",
                   f"--workdir={tmp_path}", "--steps=2", "--set=train.inter_op_threads=1")
    assert result.returncode == 0, result.stderr
    assert "TensorFlow runs at most 1 op(s) at once" in result.stderr
    assert "not applied" not in result.stderr
