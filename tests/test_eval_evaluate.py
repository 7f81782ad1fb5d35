"""The judge and the evaluate command, end to end on the tiny built-in dataset with tiny models.

Work dirs hold untrained models (a checkpoint of their initial weights): the metrics' plumbing,
not the models' quality, is under test. FVD runs with a stand-in for the TF-Hub I3D module.
"""

import json
import os
import shutil

import forkserver
import numpy as np
import pytest
import tensorflow as tf

from rjkeras import config as config_lib
from rjkeras import runs
from rjkeras import trainer
from rjkeras.errors import UserError
from rjkeras.eval import evaluation
from rjkeras.eval import judge as judge_lib
from rjkeras.eval import options as options_lib
from rjkeras.eval import sources
from rjkeras.models import build_model, compile_model


def read_json(path):
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("tfds"))


@pytest.fixture(scope="module")
def judge_dir(data_dir, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("judge"))
    judge_lib.train_judge("synthetic_sprites", workdir, builder_config="tiny", data_dir=data_dir,
                          image_size=16, ndf=8, steps=12, batch_size=32, log_every=6)
    return workdir


def make_workdir(model, data_dir, path, **overrides):
    """A work dir holding the tiny model's initial weights as its checkpoint (step 0)."""
    config = config_lib.resolve(model, "synthetic_sprites", size="tiny", overrides={
        "data.builder_config": "tiny", "data.data_dir": data_dir, **overrides})
    runs.write_config(str(path), config)
    model = compile_model(build_model(config), config)
    trainer.checkpoint_manager(model, str(path)).save(checkpoint_number=0)
    return str(path)


@pytest.fixture(scope="module")
def gan_dir(data_dir, tmp_path_factory):
    return make_workdir("rmocogan", data_dir, tmp_path_factory.mktemp("rmocogan"))


class _StandInI3D(tf.Module):
    """The TF-Hub module's signature: videos (B, T, 224, 224, 3) in [-1, 1] -> logits (B, 400)."""

    def __init__(self):
        super().__init__()
        self.weight = tf.Variable(tf.random.stateless_normal([6, 400], seed=[3, 4]))

    @tf.function(input_signature=[tf.TensorSpec([None, None, 224, 224, 3], tf.float32)])
    def __call__(self, videos):
        pooled = tf.reduce_mean(videos, axis=[2, 3])  # (B, T, 3)
        spread = tf.math.reduce_std(videos, axis=[2, 3])
        return tf.reduce_mean(tf.concat([pooled, spread], -1) @ self.weight, axis=1)


@pytest.fixture(scope="module")
def i3d_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("i3d") / "i3d-kinetics-400")
    module = _StandInI3D()
    tf.saved_model.save(module, path, signatures={"default": module.__call__})
    return path


SMALL = dict(num_real=12, num_generated=12, is_batches=2, is_batch_size=8, groups=3, group_size=2,
             batch_size=8)


# ---------------------------------------------------------------------------------------------
# The judge


def test_judge_has_d_is_architecture_and_a_head_per_label():
    network = judge_lib.build_network(16, {"action": 3, "hair": 6}, ndf=8)
    out = network(np.zeros((2, 16, 16, 3), np.float32))
    assert out["features"].shape == (2, 32) and out["action"].shape == (2, 3) and out["hair"].shape == (2, 6)
    from rjkeras.networks.gan import image_discriminator

    d_i = image_discriminator(16, ndf=8, num_outputs=9)
    assert sorted(tuple(w.shape) for w in network.weights) == sorted(tuple(w.shape) for w in d_i.weights)


def test_trained_judge_reports_test_accuracy_and_reloads(judge_dir):
    info = read_json(os.path.join(judge_dir, "judge.json"))
    assert info["labels"] == list(judge_lib.SPRITES_LABELS)
    assert info["dataset"] == "synthetic_sprites" and info["image_size"] == 16
    assert info["roles"]["action"] == "motion" and info["roles"]["hair"] == "content"
    assert info["test_accuracy"]["num_videos"] == 36  # 4 test characters x 9 videos
    for label in info["labels"]:
        assert 0.0 <= info["test_accuracy"][label]["video"] <= 1.0
    judge = judge_lib.load_judge(judge_dir)
    videos = np.random.default_rng(0).uniform(-1, 1, (3, 8, 16, 16, 3)).astype(np.float32)
    out = judge.videos(videos)
    np.testing.assert_allclose(out["action"].sum(-1), 1.0, rtol=1e-5)
    frames = judge.frames(videos.reshape(24, 16, 16, 3))
    np.testing.assert_allclose(out["features"], frames["features"].reshape(3, 8, -1).mean(1), rtol=1e-5)


def test_judge_errors_name_the_problem(judge_dir, data_dir, tmp_path):
    with pytest.raises(UserError, match="'colour' is not a class label"):
        judge_lib.train_judge("synthetic_sprites", str(tmp_path), labels=["colour"], builder_config="tiny",
                              data_dir=data_dir, image_size=16, steps=1)
    with pytest.raises(UserError, match="holds no trained judge"):
        judge_lib.load_judge(str(tmp_path))
    judge = judge_lib.load_judge(judge_dir)
    with pytest.raises(UserError, match="trained on synthetic_sprites"):
        judge.check_compatible("mug", 16, judge_dir)
    with pytest.raises(UserError, match="--image_size=32"):
        judge.check_compatible("synthetic_sprites", 32, judge_dir)


# ---------------------------------------------------------------------------------------------
# evaluate


def tensorboard_tags(workdir):
    tags = {}
    logdir = os.path.join(workdir, "tensorboard", "eval")
    for name in os.listdir(logdir):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(logdir, name)):
            for value in event.summary.value:
                tags[value.tag] = event.step
    return tags


def test_every_metric_of_a_gan(gan_dir, judge_dir, i3d_dir):
    report = evaluation.run(evaluation.Options(workdir=gan_dir, judge=judge_dir, i3d=i3d_dir, **SMALL))
    assert report == read_json(os.path.join(gan_dir, "eval", "report.json"))
    assert report["source"]["model"] == "rmocogan" and report["source"]["step"] == 0
    metrics = report["metrics"]
    fvd = metrics["fvd"]
    assert np.isfinite(fvd["value"]) and fvd["num_real"] == fvd["num_generated"] == 12
    assert fvd["video_length"] == 8 and fvd["i3d_length"] == 16 and fvd["short_videos"].startswith("loop")
    assert fvd["i3d"]["kind"] == "saved_model"
    score = metrics["inception_score"]
    assert score["label"] == "action" and set(score["per_label"]) == set(judge_lib.SPRITES_LABELS)
    assert len(score["per_label"]["hair"]["scores"]) == 2 and score["mean"] >= 1.0 - 1e-9
    assert metrics["judge_fd"]["value"] >= -1e-6 and "not FVD" in metrics["judge_fd"]["features"]
    d = metrics["disentanglement"]
    for direction, kept, changed in ((evaluation.FIX_CONTENT, "content_agreement", "motion_change_rate"),
                                     (evaluation.FIX_MOTION, "motion_agreement", "content_change_rate")):
        assert 0.0 <= d[direction][kept] <= 1.0 and 0.0 <= d[direction][changed] <= 1.0
        assert d[direction]["num_groups"] == 3 and d[direction]["videos_per_group"] == 2
    tags = tensorboard_tags(gan_dir)
    for tag in ("fvd", "judge_fd", "inception_score/action", "inception_score_std/hair",
                "disentanglement/fix_content/content_agreement",
                "disentanglement/fix_motion/content_change_rate"):
        assert tags.get(tag) == 0, (tag, sorted(tags))


def test_saved_model_gives_the_same_numbers(gan_dir, judge_dir):
    from rjkeras.export import module

    options = dict(judge=judge_dir, metrics="is,judge_fd,disentanglement", **SMALL)
    from_workdir = evaluation.run(evaluation.Options(workdir=gan_dir, **options,
                                                 output=os.path.join(gan_dir, "a.json")))
    source = sources.ModelSource(gan_dir, evaluation.Options())
    path = os.path.join(gan_dir, "saved_model")
    module.save(source.model, source.image_size, path)
    from_export = evaluation.run(evaluation.Options(saved_model=path, **options))
    assert os.path.exists(os.path.join(gan_dir, "eval", "report_saved_model.json"))
    a, b = from_workdir["metrics"], from_export["metrics"]
    assert a["inception_score"]["per_label"] == b["inception_score"]["per_label"]
    assert a["judge_fd"]["value"] == pytest.approx(b["judge_fd"]["value"], rel=1e-5)
    assert a["disentanglement"][evaluation.FIX_CONTENT] == b["disentanglement"][evaluation.FIX_CONTENT]
    assert "not available" in b["disentanglement"][evaluation.FIX_MOTION]


def test_repeats_draw_independent_generated_sets_against_one_real_set(gan_dir, judge_dir, tmp_path):
    options = dict(workdir=gan_dir, judge=judge_dir, metrics="is,judge_fd", **SMALL)
    once = evaluation.run(evaluation.Options(**options, output=str(tmp_path / "once.json")))["metrics"]
    thrice = evaluation.run(evaluation.Options(**options, repeats=3, output=str(tmp_path / "3.json")))["metrics"]
    fd = thrice["judge_fd"]
    assert len(fd["repeats"]) == 3 and len(set(fd["repeats"])) == 3  # three different sets
    assert fd["repeats"][0] == pytest.approx(once["judge_fd"]["value"], rel=1e-6)  # set 1 is the default
    assert fd["value"] == pytest.approx(np.mean(fd["repeats"])) and fd["std"] > 0
    assert "std" not in once["judge_fd"] and once["judge_fd"]["repeats"] == [once["judge_fd"]["value"]]
    hair = thrice["inception_score"]["per_label"]["hair"]
    assert len(hair["scores"]) == 3 * SMALL["is_batches"] and len(hair["repeat_means"]) == 3
    assert hair["scores"][:SMALL["is_batches"]] == once["inception_score"]["per_label"]["hair"]["scores"]
    for repeats in (0, options_lib.MAX_REPEATS + 1):
        with pytest.raises(UserError, match=f"--repeats={repeats}"):
            evaluation.run(evaluation.Options(**options, repeats=repeats))


def test_real_features_are_computed_once_per_protocol(gan_dir, data_dir, judge_dir, tmp_path, caplog):
    other = make_workdir("rjgan", data_dir, tmp_path / "rjgan")
    cache = str(tmp_path / "cache")
    options = dict(judge=judge_dir, metrics="judge_fd", cache_dir=cache, **SMALL)
    first = evaluation.run(evaluation.Options(workdir=gan_dir, **options, output=str(tmp_path / "a.json")))
    with caplog.at_level("INFO", logger="rjkeras"):
        second = evaluation.run(evaluation.Options(workdir=other, **options, output=str(tmp_path / "b.json")))
    a, b = first["metrics"]["judge_fd"], second["metrics"]["judge_fd"]
    assert not a["real_features"]["reused"] and b["real_features"]["reused"]
    assert a["real_features"]["file"] == b["real_features"]["file"]
    assert "real features reused from" in caplog.text  # and the log says so
    # The cached real side gives the numbers a fresh computation gives.
    fresh = evaluation.run(evaluation.Options(workdir=other, **{**options, "cache_dir": str(tmp_path / "new")},
                                              output=str(tmp_path / "c.json")))["metrics"]["judge_fd"]
    assert b["value"] == pytest.approx(fresh["value"], rel=1e-6)
    # Another protocol (fewer real videos) is another entry, computed anew.
    fewer = evaluation.run(evaluation.Options(workdir=other, **{**options, "num_real": 10},
                                              output=str(tmp_path / "d.json")))["metrics"]["judge_fd"]
    assert not fewer["real_features"]["reused"] and fewer["real_features"]["file"] != a["real_features"]["file"]
    # --real_stats names the file: written once, then read; one of another protocol is refused.
    stats = str(tmp_path / "real.npz")
    named = dict(options, real_stats=stats)
    evaluation.run(evaluation.Options(workdir=gan_dir, **named, output=str(tmp_path / "e.json")))
    again = evaluation.run(evaluation.Options(workdir=other, **named, output=str(tmp_path / "f.json")))
    assert again["metrics"]["judge_fd"]["real_features"] == {**b["real_features"], "file": stats}
    with pytest.raises(UserError, match=r"holds judge_fd features of another protocol \(differs in num_real\)"):
        evaluation.run(evaluation.Options(workdir=other, **{**named, "num_real": 10}))


def test_kernel_distances_beside_the_frechet_ones(gan_dir, judge_dir, i3d_dir, tmp_path):
    report = evaluation.run(evaluation.Options(workdir=gan_dir, judge=judge_dir, i3d=i3d_dir, metrics="fvd,judge_fd",
                                               kernel_subsets=4, output=str(tmp_path / "k.json"), **SMALL))
    for key, kd in (("fvd", "kvd"), ("judge_fd", "kernel_distance")):
        result = report["metrics"][key][kd]
        assert np.isfinite(result["value"]) and result["num_subsets"] == 4 and result["subset_size"] == 12
    assert len(report["metrics"]["fvd"]["i3d"]["sha256"]) == 64
    protocol = report["protocol"]  # what two numbers must share, in one place
    assert protocol["fvd"]["i3d_sha256"] == report["metrics"]["fvd"]["i3d"]["sha256"]
    assert protocol["real"]["num_videos"] == 12 and protocol["generated"]["length"] == 8
    assert protocol["judge_sha256"] == report["metrics"]["judge_fd"]["judge_sha256"]
    tags = tensorboard_tags(gan_dir)
    assert "kvd" in tags and "judge_kd" in tags


def _real_uint8(data_dir, n):
    from rjkeras import data as data_lib
    from rjkeras.summaries import to_uint8

    ds = data_lib.videos("synthetic_sprites", "test", batch_size=n, builder_config="tiny", data_dir=data_dir,
                         image_size=16, shuffle=False, repeat=False)
    return to_uint8(next(iter(ds))["video"]).numpy()


def test_another_programs_videos_are_scored_by_the_same_protocol(data_dir, judge_dir, tmp_path, caplog):
    from rjkeras import media

    videos = _real_uint8(data_dir, 12)  # (12, 8, 16, 16, 3): stands in for a PyTorch port's samples
    np.savez(tmp_path / "samples.npz", videos=videos)
    strips = tmp_path / "strips"
    strips.mkdir()
    for i, video in enumerate(videos):
        (strips / f"{i:02d}.png").write_bytes(media.png_bytes(media.strip(video)))
    (strips / "zz_broken.gif").write_bytes(b"GIF89a not really")
    (strips / "zz_small.png").write_bytes(media.png_bytes(media.strip(videos[0][:, :8, :8])))
    options = dict(judge=judge_dir, metrics="judge_fd", dataset="synthetic_sprites", dataset_config="tiny",
                   data_dir=data_dir, cache_dir=str(tmp_path / "cache"), **SMALL)
    from_npz = evaluation.run(evaluation.Options(videos=str(tmp_path / "samples.npz"), **options,
                                                 output=str(tmp_path / "npz.json")))
    with caplog.at_level("WARNING", logger="rjkeras"):
        from_files = evaluation.run(evaluation.Options(videos=str(strips), name="port", **options,
                                                       output=str(tmp_path / "png.json")))
    assert from_files["metrics"]["judge_fd"]["value"] == pytest.approx(from_npz["metrics"]["judge_fd"]["value"],
                                                                      rel=1e-6)  # PNG strips are lossless
    assert from_files["metrics"]["judge_fd"]["real_features"]["reused"]  # the same real side, cached
    assert from_files["source"]["model"] == "port" and from_files["source"]["kind"] == "videos"
    skipped = from_files["source"]["skipped_files"]
    assert set(skipped) == {"zz_broken.gif", "zz_small.png"} and "not a readable image" in skipped["zz_broken.gif"]
    assert "8 frames of 8x8, the first video 8 frames of 16x16" in skipped["zz_small.png"]
    assert "skipped zz_broken.gif" in caplog.text
    # GIFs and MP4s read back as (T, H, W, 3) videos.
    (tmp_path / "a.gif").write_bytes(media.gif_bytes(videos[0], 8.0))
    assert sources._read_video(str(tmp_path / "a.gif")).shape == (8, 16, 16, 3)
    import cv2

    writer = cv2.VideoWriter(str(tmp_path / "a.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 8.0, (16, 16))
    for frame in videos[0]:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    assert sources._read_video(str(tmp_path / "a.mp4")).shape == (8, 16, 16, 3)
    for extra, message in ((dict(metrics="is"), "--videos gives videos only"),
                           (dict(repeats=2), "holds 12 usable videos: fewer than --num_generated x --repeats"),
                           (dict(dataset=None), "pass --dataset")):
        with pytest.raises(UserError, match=message):
            evaluation.run(evaluation.Options(videos=str(strips), **{**options, **extra}))


def test_vae_disentanglement_follows_dsa(data_dir, judge_dir, tmp_path):
    workdir = make_workdir("rjvae", data_dir, tmp_path / "rjvae")
    report = evaluation.run(evaluation.Options(workdir=workdir, judge=judge_dir, metrics="disentanglement",
                                           **SMALL))
    d = report["metrics"]["disentanglement"]
    assert d["protocol"].startswith("DSA") and d["real"]["split"] == "test"
    for direction in (evaluation.FIX_CONTENT, evaluation.FIX_MOTION):
        assert d[direction]["num_videos"] == 6
        assert set(d[direction]["labels"]) == set(judge_lib.SPRITES_LABELS)


def test_unsupported_and_missing_inputs_are_one_line_errors(data_dir, judge_dir, gan_dir, tmp_path):
    image_gan = make_workdir("image_gan", data_dir, tmp_path / "image_gan")
    with pytest.raises(UserError, match="makes no videos"):
        evaluation.run(evaluation.Options(workdir=image_gan, judge=judge_dir, metrics="disentanglement", **SMALL))
    # By default the metrics a model cannot give are skipped, and said so in the report.
    report = evaluation.run(evaluation.Options(workdir=image_gan, judge=judge_dir, **SMALL))
    assert list(report["metrics"]) == ["inception_score"] and "disentanglement" in report["skipped"]
    cases = [
        (dict(workdir=gan_dir, metrics="fvd"), "needs --i3d"),
        (dict(workdir=gan_dir, metrics="is"), "needs --judge"),
        (dict(workdir=gan_dir, metrics="fid"), "unknown metric 'fid'; choose from fvd, is"),
        (dict(workdir=gan_dir, judge=str(tmp_path / "nowhere")), "does not exist"),
        (dict(workdir=gan_dir, saved_model=gan_dir, judge=judge_dir), "exactly one of"),
        (dict(workdir=gan_dir), "nothing to evaluate"),
        (dict(workdir=gan_dir, judge=judge_dir, metrics="judge_fd", num_real=1000), "has 72"),
    ]
    for options, message in cases:
        with pytest.raises(UserError, match=message):
            evaluation.run(evaluation.Options(**{**SMALL, **options}))
    other = str(tmp_path / "judge32")
    shutil.copytree(judge_dir, other)
    info = read_json(os.path.join(other, "judge.json"))
    with open(os.path.join(other, "judge.json"), "w") as f:
        json.dump({**info, "image_size": 32}, f)
    with pytest.raises(UserError, match="takes 32x32 frames"):
        evaluation.run(evaluation.Options(workdir=gan_dir, judge=other, metrics="is", **SMALL))


_run = forkserver.run_module


def test_commands_print_progress_and_one_line_errors(gan_dir, judge_dir):
    result = _run("rjkeras.evaluate", f"--workdir={gan_dir}", f"--judge={judge_dir}", "--metrics=is",
                  "--is_batches=2", "--is_batch_size=4", f"--output={gan_dir}/cli.json")
    assert result.returncode == 0, result.stderr
    assert "inception score: batch 2/2" in result.stderr and "report:" in result.stderr
    assert read_json(f"{gan_dir}/cli.json")["metrics"]["inception_score"]["num_batches"] == 2
    for module, args, message in (
            ("rjkeras.evaluate", [f"--workdir={gan_dir}", "--metrics=fvd"], "needs --i3d"),
            ("rjkeras.eval.train_judge", ["--dataset=nope"], "unknown dataset 'nope'")):
        result = _run(module, *args)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and message in errors[0], result.stderr
