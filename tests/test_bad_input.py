"""Bad input, as a new user meets it: every command-line tool given a misspelt flag, a missing,
corrupt or mismatched file, or an out-of-range request exits with status 2 and one `error:` line
(its last line) naming the flag or file, without a traceback; the SavedModel's signatures refuse
out-of-range counts and lengths instead of trying to allocate them.

The files are tiny and untrained (checkpoints of initial weights, judges that were never trained):
what is under test is what each command says about them, not what it would compute. Bad configs of
`rjkeras.train` are in tests/test_train_cli.py and tests/test_config.py.
"""

import json
import os
import shutil
import subprocess
import sys

import forkserver
import numpy as np
import pytest
import testing_utils
import tensorflow as tf

from rjkeras import config as config_lib
from rjkeras import runs
from rjkeras import trainer
from rjkeras.eval import judge as judge_lib
from rjkeras.eval import study as study_lib
from rjkeras.export import module
from rjkeras.export.module import MAX_LENGTH, MAX_VIDEOS
from rjkeras.models import build_model, compile_model


run = forkserver.run_module


def assert_one_line_error(result, *fragments):
    """Status 2, no traceback, one `error:` line, the last one, holding every fragment."""
    testing_utils.assert_one_line_error(result, *fragments, last=True)


# ----------------------------------------------------------------------------------------------
# Flags: absl's own parsing errors (unknown flag, bad value) end like every other bad input.


@pytest.mark.parametrize("module_name,args,fragment", [
    ("rjkeras.prepare", ["synthetic_sprites", "--confg=tiny"], "Unknown command line flag 'confg'"),
    ("rjkeras.export", ["--wrkdir=workdirs/x"], "Unknown command line flag 'wrkdir'"),
    ("rjkeras.evaluate", ["--fvd_short_videos=twice"], "--fvd_short_videos=twice"),
    ("rjkeras.human_eval", ["score", "--ci=exact"], "--ci=exact"),
    ("rjkeras.figures", ["--num=many"], "--num=many"),
])
def test_flag_parsing_errors_are_one_line(module_name, args, fragment):
    assert_one_line_error(run(module_name, *args), fragment)


# Run as `python -m <module>` in a process where importing TensorFlow fails: a check that came
# after TensorFlow's import (seconds before the answer) would end in an ImportError instead.
WITHOUT_TENSORFLOW = ("import runpy, sys; sys.modules['tensorflow'] = None; "
                      "runpy.run_module(sys.argv.pop(1), run_name='__main__', alter_sys=True)")


@pytest.mark.parametrize("module_name,args,fragments", [
    ("rjkeras.train", ["--modle=rjgan"], ["Unknown command line flag 'modle'"]),
    ("rjkeras.train", ["--model=rjgna"], ["unknown model 'rjgna'"]),
    ("rjkeras.train", ["--model=rjgan", "--workdir={tmp}/rjvae_run"],
     ["{tmp}/rjvae_run holds a run with a different config", "model rjvae -> rjgan"]),
    ("rjkeras.train", ["--model=rjgan", "--workdir={tmp}/run", "--init_from={tmp}/nowhere"],
     ["{tmp}/nowhere/config.json not found: --init_from must be a work dir"]),
    ("rjkeras.evaluate", ["--metrcs=fvd"], ["Unknown command line flag 'metrcs'"]),
    ("rjkeras.evaluate", ["--workdir={tmp}/nowhere"], ["--workdir={tmp}/nowhere does not exist"]),
    ("rjkeras.evaluate", ["--workdir={tmp}", "--judge={tmp}"], ["{tmp}/config.json not found"]),
    ("rjkeras.evaluate", ["--saved_model={tmp}", "--workdir={tmp}"], ["pass exactly one of --workdir"]),
    ("rjkeras.evaluate", ["--saved_model={tmp}", "--is_batch_size=2000"], ["--is_batch_size=2000: at most 1024"]),
    ("rjkeras.evaluate", ["--saved_model={tmp}", "--metrics=fvd"], ["--metrics=fvd needs --i3d"]),
    ("rjkeras.export", ["--workdir={tmp}"], ["{tmp}/config.json not found"]),
    ("rjkeras.figures", ["--num=many"], ["--num=many"]),
    ("rjkeras.prepare", ["nosuch"], ["unknown dataset 'nosuch'"]),
    ("rjkeras.eval.train_judge", ["--dataset=synthetic_sprites", "--steps=ten"], ["--steps=ten"]),
    ("rjkeras.eval.train_judge", [], ["--dataset is required"]),
    ("rjkeras.eval.train_judge", ["--dataset=nope"], ["unknown dataset 'nope'"]),
    ("rjkeras.eval.train_judge", ["--dataset=synthetic_sprites", "--image_size=8"],
     ["--image_size=8", ">= 16"]),
    ("rjkeras.eval.train_judge", ["--dataset=synthetic_sprites", "--steps=0"], ["--steps=0", "at least 1"]),
    ("rjkeras.eval.i3d", ["--check=maybe"], ["--check"]),
    ("rjkeras.eval.i3d", [], ["--saved_model is required"]),
    ("rjkeras.eval.i3d", ["--saved_model={tmp}"], ["is not a SavedModel folder", "saved_model.pb"]),
    ("rjkeras.eval.i3d", ["--saved_model={tmp}/module", "--output=i3d.h5"],
     ["--output=i3d.h5 must end with .weights.h5"]),
])
def test_commands_answer_bad_flags_before_importing_tensorflow(module_name, args, fragments, tmp_path):
    runs.write_config(str(tmp_path / "rjvae_run"), config_lib.resolve("rjvae", "synthetic_sprites"))
    (tmp_path / "module").mkdir()
    (tmp_path / "module" / "saved_model.pb").write_bytes(b"")  # a SavedModel folder, to its check
    args = [arg.format(tmp=tmp_path) for arg in args]
    result = subprocess.run([sys.executable, "-c", WITHOUT_TENSORFLOW, module_name, *args],
                            capture_output=True, text=True, timeout=60)
    assert_one_line_error(result, *[fragment.format(tmp=tmp_path) for fragment in fragments])


@pytest.mark.parametrize("module_name,expected", [
    ("rjkeras.evaluate", ["--workdir", "--num_generated", "--fvd_short_videos"]),
    ("rjkeras.figures", ["--model", "--num", "--[no]tensorboard"]),
    ("rjkeras.eval.train_judge", ["--dataset", "--steps", "--learning_rate", "--image_size"]),
    ("rjkeras.train", ["--model", "--dataset", "--size"]),
    ("rjkeras.eval.i3d", ["--saved_model", "--output", "--[no]check"]),
])
def test_helpshort_lists_the_commands_flags(module_name, expected):
    # Every flag error points there; flags declared by a helper (`cli.define_flags`, the I3D
    # converter's `run`) must be listed as the command's own, which alone --helpshort shows.
    result = subprocess.run([sys.executable, "-c", WITHOUT_TENSORFLOW, module_name, "--helpshort"],
                            capture_output=True, text=True, timeout=60)
    listed = {line.split(":")[0].strip() for line in result.stdout.splitlines() if line.startswith("  --")}
    assert set(expected) <= listed, result.stdout + result.stderr


def test_the_judge_refuses_an_unknown_builder_config(tmp_path):
    assert_one_line_error(run("rjkeras.eval.train_judge", "--dataset=synthetic_sprites",
                              "--dataset_config=huge", f"--data_dir={tmp_path}"), "unknown config 'huge'")


# ----------------------------------------------------------------------------------------------
# The files a user can get wrong, made once.


def _truncate(path, keep=1000):
    with open(path, "rb") as f:
        head = f.read(keep)
    with open(path, "wb") as f:
        f.write(head)


class _Foreign(tf.Module):
    """A SavedModel that is neither an rjkeras export nor I3D: int32 (N, 3) -> {"y": ...}."""

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.int32)])
    def __call__(self, x):
        return {"y": x * 2}


def _judge(folder, dataset, image_size, labels):
    info = {"dataset": dataset, "image_size": image_size, "ndf": 4, "labels": list(labels),
            "classes": {label: ["a", "b"] for label in labels}}
    judge_lib.new_judge(info).save(str(folder))
    return str(folder)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Paths (str) of good and bad inputs; `data_dir` is prepared on first use by a command."""
    root = tmp_path_factory.mktemp("bad_input")
    paths = {"root": str(root), "data_dir": str(root / "tfds")}

    def workdir(name, model="rjgan", checkpoint=True, **overrides):
        config = config_lib.resolve(model, "synthetic_sprites", size="tiny", overrides={
            "data.builder_config": "tiny", "data.data_dir": paths["data_dir"], **overrides})
        path = str(root / name)
        runs.write_config(path, config)
        instance = compile_model(build_model(config), config)
        if checkpoint:
            trainer.checkpoint_manager(instance, path).save(checkpoint_number=0)
        paths[name] = path
        return instance, config

    model, config = workdir("rjgan")
    # Exports outside any work dir: nothing beside them says which dataset they were trained on.
    module.save(model, config.data.image_size, str(root / "exports" / "rjgan"))
    paths["export"] = str(root / "exports" / "rjgan")
    shutil.copytree(paths["export"], root / "exports" / "truncated")
    _truncate(root / "exports" / "truncated" / "saved_model.pb")
    paths["truncated_export"] = str(root / "exports" / "truncated")
    model32, config32 = workdir("rjgan32", **{"data.image_size": 32})
    module.save(model32, 32, str(root / "exports" / "rjgan32"))
    paths["export32"] = str(root / "exports" / "rjgan32")
    model, config = workdir("rmocogan", model="rmocogan")
    module.save(model, config.data.image_size, str(root / "exports" / "rmocogan"))
    paths["rmocogan_export"] = str(root / "exports" / "rmocogan")

    foreign = _Foreign()
    tf.saved_model.save(foreign, str(root / "foreign"), signatures={"serving_default": foreign.__call__})
    paths["foreign"] = str(root / "foreign")

    workdir("no_checkpoint", checkpoint=False)
    workdir("rjvae", model="rjvae", checkpoint=False)
    shutil.copytree(paths["no_checkpoint"], root / "corrupt_config")
    _truncate(root / "corrupt_config" / "config.json", keep=40)
    paths["corrupt_config"] = str(root / "corrupt_config")
    os.makedirs(root / "empty")
    paths["empty"] = str(root / "empty")
    (root / "notes.txt").write_text("not a folder\n")
    paths["file"] = str(root / "notes.txt")
    (root / "bad.weights.h5").write_bytes(b"not HDF5")
    paths["bad_h5"] = str(root / "bad.weights.h5")

    paths["judge_mug"] = _judge(root / "judge_mug", "mug", 16, ["expression"])
    paths["judge_32"] = _judge(root / "judge_32", "synthetic_sprites", 32, ["action"])
    paths["judge"] = _judge(root / "judge", "synthetic_sprites", 16, ["action"])
    shutil.copytree(paths["judge"], root / "judge_corrupt")
    _truncate(root / "judge_corrupt" / "judge.json", keep=30)
    paths["judge_corrupt"] = str(root / "judge_corrupt")
    return paths


def _args(templates, files):
    return [arg.format(**files) for arg in templates]


# ----------------------------------------------------------------------------------------------
# train, export and prepare


@pytest.mark.slow
@pytest.mark.parametrize("args,fragments", [
    (["--workdir={corrupt_config}"], ["{corrupt_config}/config.json: not valid JSON"]),
    (["--workdir={root}/run", "--init_from={rjvae}"], ["--init_from={rjvae} is a rjvae run", "GAN run"]),
    (["--workdir={root}/run", "--init_from={no_checkpoint}"],
     ["--init_from={no_checkpoint} has no checkpoint"]),
    (["--workdir={root}/run", "--init_from={rjgan32}"],
     ["--init_from={rjgan32}: its image_generator does not fit", "image size 32 vs 16"]),
])
def test_train_with_bad_files(files, args, fragments):
    result = run("rjkeras.train", "--model=rjgan", "--size=tiny", "--dataset_config=tiny",
                 f"--data_dir={files['data_dir']}", *_args(args, files))
    assert_one_line_error(result, *_args(fragments, files))


@pytest.mark.slow
@pytest.mark.parametrize("args,fragments", [
    (["--workdir={root}/nowhere"], ["{root}/nowhere/config.json not found"]),
    (["--workdir={empty}"], ["{empty}/config.json not found"]),
    (["--workdir={no_checkpoint}"], ["{no_checkpoint} has no checkpoint yet"]),
    (["--workdir={corrupt_config}"], ["{corrupt_config}/config.json: not valid JSON"]),
    (["--workdir={rjgan}", "--output={file}/saved_model"], ["cannot write the SavedModel to {file}"]),
])
def test_export_bad_input(files, args, fragments):
    assert_one_line_error(run("rjkeras.export", *_args(args, files)), *_args(fragments, files))


def test_prepare_refuses_a_half_made_dataset_folder(tmp_path):
    (tmp_path / "synthetic_sprites" / "tiny" / "1.0.0").mkdir(parents=True)
    result = run("rjkeras.prepare", "synthetic_sprites", "--config=tiny", f"--data_dir={tmp_path}")
    assert_one_line_error(result, f"{tmp_path}/synthetic_sprites/tiny/1.0.0 exists but holds no "
                                  "complete dataset", "delete it")
    assert_one_line_error(run("rjkeras.prepare", "synthetic_sprites", "tiny"), "expected one dataset name")


# ----------------------------------------------------------------------------------------------
# evaluate

SMALL = ["--num_real=4", "--num_generated=4", "--is_batches=1", "--is_batch_size=4", "--groups=1",
         "--group_size=2", "--batch_size=4"]


@pytest.mark.slow
@pytest.mark.parametrize("args,fragments", [
    # the model: a missing, unfinished or corrupt work dir; not an rjkeras SavedModel
    (["--workdir={root}/nowhere", "--judge={judge}"], ["--workdir={root}/nowhere does not exist"]),
    (["--workdir={empty}", "--judge={judge}"], ["{empty}/config.json not found"]),
    (["--workdir={no_checkpoint}", "--judge={judge}"], ["--workdir={no_checkpoint} has no checkpoint"]),
    (["--workdir={corrupt_config}", "--judge={judge}"], ["{corrupt_config}/config.json: not valid JSON"]),
    (["--saved_model={empty}", "--judge={judge}"], ["--saved_model={empty} is not a SavedModel folder"]),
    (["--saved_model={foreign}", "--judge={judge}", "--dataset=synthetic_sprites"],
     ["--saved_model: {foreign} is a SavedModel but not one written by rjkeras.export"]),
    (["--saved_model={truncated_export}", "--judge={judge}", "--dataset=synthetic_sprites"],
     ["--saved_model: cannot load the SavedModel {truncated_export}"]),
    (["--saved_model={export}", "--judge={judge}"], ["no work dir config beside it: pass --dataset"]),
    (["--saved_model={export}", "--judge={judge}", "--dataset=nosuch"],
     ["--dataset: unknown dataset 'nosuch'"]),
    # the judge: missing, corrupt, of another dataset or frame size
    (["--workdir={rjgan}", "--judge={empty}"], ["--judge={empty} holds no trained judge"]),
    (["--workdir={rjgan}", "--judge={judge_corrupt}"], ["--judge={judge_corrupt}: cannot load the judge"]),
    (["--workdir={rjgan}", "--judge={judge_mug}", "--metrics=is"],
     ["--judge={judge_mug} was trained on mug"]),
    (["--workdir={rjgan}", "--judge={judge_32}", "--metrics=is"], ["takes 32x32 frames", "--image_size=16"]),
    # I3D: not I3D at all
    (["--workdir={rjgan}", "--i3d={export}"], ["--i3d={export}: no usable signature"]),
    (["--workdir={rjgan}", "--i3d={foreign}", "--metrics=fvd"], ["--i3d={foreign}: cannot run on videos"]),
    (["--workdir={rjgan}", "--i3d={bad_h5}"], ["--i3d={bad_h5}: not weights of rjkeras' I3D"]),
    (["--workdir={rjgan}", "--i3d={file}"], ["--i3d={file}: expected a SavedModel folder"]),
    # requests the data or the export cannot serve
    (["--workdir={rjgan}", "--judge={judge}", "--metrics=judge_fd", "--length=16"],
     ["16 frames but synthetic_sprites/tiny has 8-frame videos", "--length <= 8"]),
    (["--workdir={rjgan}", "--judge={judge}", "--metrics=judge_fd", "--real_split=valid"],
     ["--real_split=valid", "test, train"]),
    (["--saved_model={export}", "--judge={judge}", "--metrics=is", "--is_batch_size=2000"],
     ["--is_batch_size=2000: at most 1024"]),
    (["--workdir={rjgan}", "--judge={judge}", "--metrics=disentanglement", "--length=5000"],
     ["--length=5000: at most 1024"]),
])
def test_evaluate_bad_input(files, args, fragments):
    # A flag given twice takes its last value: SMALL's sample counts, then the case's own flags.
    result = run("rjkeras.evaluate", *SMALL, *_args(args, files), f"--output={files['root']}/report.json")
    assert_one_line_error(result, *_args(fragments, files))


# ----------------------------------------------------------------------------------------------
# figures and human_eval make: models that cannot be loaded or cannot serve the request


@pytest.mark.slow
@pytest.mark.parametrize("module_name,args,fragments", [
    ("rjkeras.figures", ["--model={rjgan}", "--num=40"], ["--num=40: must be between 1 and 32"]),
    ("rjkeras.figures", ["--model={export}", "--tensorboard"],
     ["--tensorboard writes into the model's work dir"]),
    ("rjkeras.figures", ["--model={truncated_export}"], ["cannot load the SavedModel {truncated_export}"]),
    ("rjkeras.figures", ["--model={rjgan}", "--baseline={root}/nowhere"], ["model {root}/nowhere not found"]),
    ("rjkeras.figures", ["--model={foreign}"], ["{foreign} is a SavedModel but not one written by rjkeras"]),
    ("rjkeras.human_eval", ["make", "--model_a={export}", "--model_b={foreign}"],
     ["{foreign} is a SavedModel but not one written by rjkeras.export", "serving_default"]),
    ("rjkeras.human_eval", ["make", "--model_a={no_checkpoint}", "--model_b={export}"],
     ["{no_checkpoint} has no checkpoint yet"]),
    ("rjkeras.human_eval", ["make", "--model_a={corrupt_config}", "--model_b={export}"],
     ["{corrupt_config}/config.json: not valid JSON"]),
    ("rjkeras.human_eval", ["make", "--model_a={empty}", "--model_b={export}"],
     ["{empty} is neither a SavedModel"]),
    ("rjkeras.human_eval", ["make", "--model_a={export}", "--model_b={export32}"],
     ["model A makes samples of shape (2, 16, 16, 3) and model B of shape (2, 32, 32, 3)"]),
    ("rjkeras.human_eval", ["make", "--model_a={export}", "--model_b={rjgan}", "--length=5000"],
     ["--length=5000: must be at least 1 and at most 1024"]),
])
def test_models_that_cannot_serve(files, module_name, args, fragments, tmp_path):
    command = args[:1] if args[0] == "make" else []
    small = ["--num=2", "--length=2"] if module_name == "rjkeras.figures" else ["--num_pairs=2", "--length=2"]
    # A flag given twice takes its last value: the small sizes, then the case's own flags.
    result = run(module_name, *command, *small, *_args(args[len(command):], files),
                 f"--output={tmp_path / 'out'}")
    assert_one_line_error(result, *_args(fragments, files))


# ----------------------------------------------------------------------------------------------
# human_eval score: answers and studies that are missing, corrupt or of another study


@pytest.fixture
def study(tmp_path):
    """A study of two tasks, t1 and t2, and its tasks.csv."""
    folder = tmp_path / "study"
    folder.mkdir()
    tasks = [{"task_id": f"t{i}", "a_side": "left", "left": "", "right": ""} for i in (1, 2)]
    (folder / "study.json").write_text(json.dumps({
        "format": study_lib.FORMAT, "study_id": "s1", "kind": "videos", "mode": "animated",
        "models": {"a": {"name": "a"}, "b": {"name": "b"}}, "tasks": tasks}))
    (folder / "tasks.csv").write_text("study_id,task_id,left_url,right_url\ns1,t1,l.gif,r.gif\n"
                                      "s1,t2,l.gif,r.gif\n")
    return folder


HEADER = "study_id,task_id,choice,worker_id\n"


@pytest.mark.parametrize("answers,fragments", [
    (None, ["answers file {answers} not found"]),
    (HEADER + "s1,t1,left,w1\ns1,t2", ["{answers} line 3: choice '' is not left or right"]),  # truncated
    (HEADER, ["no answers in {answers}"]),
    (HEADER + "s1,t1,left,w1\ns1,t9,right,w1\n", ["task ids not in the study", "t9"]),  # tasks.csv has t1, t2
    (HEADER + "s2,t1,left,w1\n", ["{answers} line 2: answers of study s2"]),
    (b"\xff\xfe garbage", ["cannot read answers file {answers}"]),
    ('{"t1": "le', ["{answers} is not valid JSON"]),
    ("tasks.csv", ["no choice column"]),  # the batch input given as its results
])
def test_score_bad_answers(study, tmp_path, answers, fragments):
    is_json = isinstance(answers, str) and answers.startswith("{")
    path = tmp_path / ("answers.json" if is_json else "answers.csv")
    if answers == "tasks.csv":
        path = study / "tasks.csv"
    elif isinstance(answers, bytes):
        path.write_bytes(answers)
    elif answers is not None:
        path.write_text(answers)
    result = run("rjkeras.human_eval", "score", f"--study={study}", f"--answers={path}")
    assert_one_line_error(result, *[f.format(answers=path) for f in fragments])


@pytest.mark.parametrize("content,fragment", [
    ('{"format": "rjk', "cannot read {path}"),  # truncated
    ('{"format": "other/1", "tasks": []}', "{path} is not a study of rjkeras.human_eval"),
])
def test_score_bad_study(study, content, fragment):
    (study / "study.json").write_text(content)
    answers = study / "answers.csv"
    answers.write_text(HEADER + "s1,t1,left,w1\n")
    result = run("rjkeras.human_eval", "score", f"--study={study}", f"--answers={answers}")
    assert_one_line_error(result, fragment.format(path=study / "study.json"))


# ----------------------------------------------------------------------------------------------
# The SavedModel's signatures: counts and lengths outside 1..1024 are refused before any work.

_I32 = ("num_videos", "num_images", "length", "steps")
CALLS = {  # valid arguments of each signature
    "generate_videos": dict(num_videos=2, length=2, seed=0),
    "generate_images": dict(num_images=2, seed=0),
    "generate_with_content": dict(num_videos=2, length=2, content_seed=0, motion_seed=1),
    "interpolate": dict(seed_a=0, seed_b=1, steps=2, length=2),
}


def _call(signature, **kwargs):
    return signature(**{k: tf.constant(v, tf.int32 if k in _I32 else tf.int64) for k, v in kwargs.items()})


@pytest.fixture(scope="module")
def signatures(files):
    return tf.saved_model.load(files["rmocogan_export"]).signatures


@pytest.mark.parametrize("name,argument", [
    (name, argument) for name, call in CALLS.items() for argument in call if argument in _I32])
@pytest.mark.parametrize("value", [0, -1, "cap + 1", 2**31 - 1])
def test_signatures_refuse_out_of_range_arguments(signatures, name, argument, value):
    cap = MAX_LENGTH if argument == "length" else MAX_VIDEOS
    value = cap + 1 if value == "cap + 1" else value
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"{argument} must be between 1 and {cap}"):
        _call(signatures[name], **{**CALLS[name], argument: value})


def test_signatures_serve_up_to_the_cap(signatures):
    assert MAX_VIDEOS == MAX_LENGTH == 1024  # as the README and the module's docstring say
    images = _call(signatures["generate_images"], num_images=MAX_VIDEOS, seed=0)["images"]
    assert images.shape == (MAX_VIDEOS, 16, 16, 3) and images.dtype == tf.uint8
    videos = _call(signatures["generate_videos"], num_videos=1, length=MAX_LENGTH, seed=0)["videos"]
    assert videos.shape == (1, MAX_LENGTH, 16, 16, 3)
    assert np.all(np.isfinite(videos.numpy()))
