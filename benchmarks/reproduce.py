"""Reproduces the paper's comparisons (tables 2, 3 and 5, and the 1:1 mixture) at a small budget.

    python benchmarks/reproduce.py --workdir=repro --size=small --dataset_config=small --steps=1000

Drives the real command-line tools as subprocesses, as a user would run them, on the built-in
`synthetic_sprites` dataset:

1. trains, for the same `--steps` each: `mocogan`, `rmocogan`, `rjgan` (videos only), `image_gan`
   (the image baseline), `rjgan --image_fraction=0.5` (the 1:1 image/video mixture) and
   `rjgan --init_from=<image_gan run>` (image pre-training: an `image_gan` run of
   `--pretrain_steps`, then `--steps` of RJGAN on videos);
2. trains a judge classifier (`python -m rjkeras.eval.train_judge`) at the models' frame size;
3. evaluates every run (`python -m rjkeras.evaluate`): `judge_fd` (a Frechet distance in the
   judge's feature space, NOT FVD) for the video models, `is` (Inception Score) for `image_gan` and
   RJGAN's G_I;
4. writes a markdown file (`--output`, default `<workdir>/tables.md`) with tables shaped like the
   paper's tables 2, 3 and 5 and the mixture comparison, headed by the command line, the budget
   and the date.

Everything lives under `--workdir`: `runs/<name>/` (the work dirs), `judge/`, `logs/<name>.log`
(each subprocess's output) and `logs/<name>.cmd` (the command it ran). A step whose command
already ran to completion with the same arguments is skipped, so a rerun only does what is missing
(raise `--steps` and the trainer continues the finished runs). Not a test, not run in CI.
"""

from __future__ import annotations

import datetime
import json
import os
import shlex
import subprocess
import sys
import time
import types

from absl import app, flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASET = "synthetic_sprites"


FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Root of every run, log and report.")
flags.DEFINE_enum("size", "small", ["paper", "small", "tiny"], "Size overlay of every model (rjkeras.train --size).")
flags.DEFINE_integer("steps", 1000, "Training steps of every model (the paper's table 3: 1000 iterations).")
flags.DEFINE_integer("pretrain_steps", None, "Steps of the image_gan run used as RJGAN's pre-training (default "
                     "--steps; equal to --steps, the image baseline's own run is reused).")
flags.DEFINE_integer("judge_steps", 2000, "Training steps of the judge.")
flags.DEFINE_integer("judge_ndf", 64, "Width of the judge (D_I's ndf).")
flags.DEFINE_string("data_dir", None, "Where prepared TFDS datasets live.")
flags.DEFINE_string("dataset_config", None, "synthetic_sprites builder config (default the builder's; small, tiny).")
flags.DEFINE_integer("num_videos", None, "Real and generated videos for judge_fd (default min(624, train videos)).")
flags.DEFINE_integer("is_batches", 10, "Inception Score batches (paper: 10).")
flags.DEFINE_integer("is_batch_size", 128, "Images per IS batch (paper: 128).")
flags.DEFINE_integer("seed", 0, "Seed of every evaluation draw.")
flags.DEFINE_string("output", None, "Markdown file; default <workdir>/tables.md.")
flags.mark_flag_as_required("workdir")


def parse_args() -> types.SimpleNamespace:
    """The parsed flags, with paths made absolute and the defaults that depend on others."""
    args = types.SimpleNamespace(**{name: FLAGS[name].value for name in (
        "workdir", "size", "steps", "pretrain_steps", "judge_steps", "judge_ndf", "data_dir",
        "dataset_config", "num_videos", "is_batches", "is_batch_size", "seed", "output")})
    if args.pretrain_steps is None:
        args.pretrain_steps = args.steps
    args.workdir = os.path.abspath(args.workdir)
    if args.data_dir:
        args.data_dir = os.path.abspath(os.path.expanduser(args.data_dir))
    args.output = os.path.abspath(args.output or os.path.join(args.workdir, "tables.md"))
    return args


# ---------------------------------------------------------------------------------------------
# Subprocesses


class Runner:
    def __init__(self, root: str):
        self.logs = os.path.join(root, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.start = time.time()

    def _elapsed(self) -> str:
        return f"[{time.time() - self.start:6.0f} s]"

    def run(self, name: str, cmd: list[str], done=lambda: False) -> None:
        """Runs cmd (output to logs/<name>.log) unless the same command already completed and
        `done()` says its result is there. Exits with one line naming the command on failure."""
        line = shlex.join(cmd)
        log_path = os.path.join(self.logs, f"{name}.log")
        cmd_path = os.path.join(self.logs, f"{name}.cmd")
        previous = None
        if os.path.exists(cmd_path):
            with open(cmd_path) as f:
                previous = f.read().strip()
        if previous == line and done():
            print(f"{self._elapsed()} {name}: done already, skipped ({log_path})", flush=True)
            return
        print(f"{self._elapsed()} {name}: $ {line}", flush=True)
        if os.path.exists(cmd_path):
            os.remove(cmd_path)
        t0 = time.time()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(log_path, "w") as log:
            log.write(f"$ {line}\n")
            log.flush()
            rc = subprocess.call(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
        if rc != 0:
            last = _last_line(log_path)
            sys.exit(f"error: {name} failed (exit {rc}): `{line}`; log: {log_path}"
                     + (f"; last line: {last}" if last else ""))
        with open(cmd_path, "w") as f:
            f.write(line + "\n")
        print(f"{self._elapsed()} {name}: finished in {time.time() - t0:.0f} s", flush=True)


def _last_line(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            lines = [x.strip() for x in f if x.strip()]
        return lines[-1][:300] if lines else ""
    except OSError:
        return ""


def checkpoint_step(workdir: str) -> int | None:
    """The latest checkpoint's step of a training work dir, from CheckpointManager's index file."""
    path = os.path.join(workdir, "checkpoints", "checkpoint")
    try:
        with open(path) as f:
            first = f.readline()
    except OSError:
        return None
    name = first.split(":", 1)[-1].strip().strip('"')
    try:
        return int(name.rsplit("-", 1)[-1])
    except ValueError:
        return None


def load_json(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


# ---------------------------------------------------------------------------------------------
# The experiment


def main(argv) -> None:
    args = parse_args()
    root = args.workdir
    runs = os.path.join(root, "runs")
    judge_dir = os.path.join(root, "judge")
    os.makedirs(runs, exist_ok=True)
    runner = Runner(root)
    py = sys.executable
    began = time.time()
    command = shlex.join(["python", "benchmarks/reproduce.py",
                          *sys.argv[1:]])
    print(f"reproduce: {command}\nroot: {root}", flush=True)

    data_flags = []
    if args.data_dir:
        data_flags.append(f"--data_dir={args.data_dir}")
    if args.dataset_config:
        data_flags.append(f"--dataset_config={args.dataset_config}")

    # name -> (model, steps, extra flags)
    # The pre-trained RJGAN's work dir is named by its pre-training budget: a rerun with more
    # --steps continues it only if it started from an image_gan run of the same length.
    same_pretrain = args.pretrain_steps == args.steps
    pretrain_name = "image_gan" if same_pretrain else f"image_gan_p{args.pretrain_steps}"
    pretrained = f"rjgan_pretrained_p{args.pretrain_steps}"
    plan = [
        ("mocogan", "mocogan", args.steps, []),
        ("rmocogan", "rmocogan", args.steps, []),
        ("rjgan", "rjgan", args.steps, []),
        ("image_gan", "image_gan", args.steps, []),
    ]
    if not same_pretrain:
        plan.append((pretrain_name, "image_gan", args.pretrain_steps, []))
    plan += [
        (pretrained, "rjgan", args.steps, [f"--init_from={os.path.join(runs, pretrain_name)}"]),
        ("rjgan_mixture", "rjgan", args.steps, ["--image_fraction=0.5"]),
    ]
    for name, model, steps, extra in plan:
        wd = os.path.join(runs, name)
        cmd = [py, "-m", "rjkeras.train", f"--model={model}", f"--dataset={DATASET}",
               f"--size={args.size}", f"--steps={steps}", f"--workdir={wd}", *data_flags, *extra]
        runner.run(f"train_{name}", cmd, done=lambda wd=wd, steps=steps: (checkpoint_step(wd) or 0) >= steps)

    config = load_json(os.path.join(runs, "mocogan", "config.json"))
    image_size = int(config["data"]["image_size"])
    builder_config = config["data"].get("builder_config")

    judge_cmd = [py, "-m", "rjkeras.eval.train_judge", f"--dataset={DATASET}", f"--workdir={judge_dir}",
                 f"--image_size={image_size}", f"--steps={args.judge_steps}", f"--ndf={args.judge_ndf}",
                 *data_flags]
    runner.run("judge", judge_cmd, done=lambda: os.path.exists(os.path.join(judge_dir, "judge.json")))
    judge = load_json(os.path.join(judge_dir, "judge.json"))
    train_videos = int(judge["training"]["num_videos"])
    num_videos = args.num_videos or min(624, train_videos)

    video_runs = ["mocogan", "rmocogan", "rjgan", pretrained, "rjgan_mixture"]
    reports = {}
    evaluations = {name: ["judge_fd"] for name in video_runs}
    evaluations["rjgan"] = ["judge_fd", "is"]  # RJGAN's G_I(mu) for table 5
    evaluations["image_gan"] = ["is"]
    for name, metric_list in evaluations.items():
        wd = os.path.join(runs, name)
        report_path = os.path.join(root, "reports", f"{name}.json")
        metrics = ",".join(metric_list)
        cmd = [py, "-m", "rjkeras.evaluate", f"--workdir={wd}", f"--judge={judge_dir}",
               f"--metrics={metrics}", f"--num_real={num_videos}", f"--num_generated={num_videos}",
               f"--is_batches={args.is_batches}", f"--is_batch_size={args.is_batch_size}",
               f"--seed={args.seed}", f"--output={report_path}"]

        def done(wd=wd, report_path=report_path, metric_list=metric_list):
            if not os.path.exists(report_path):
                return False
            report = load_json(report_path)
            keys = {"is": "inception_score"}
            return (report.get("source", {}).get("step") == checkpoint_step(wd)
                    and all(keys.get(m, m) in report.get("metrics", {}) for m in metric_list))

        runner.run(f"evaluate_{name}", cmd, done=done)
        reports[name] = load_json(report_path)

    reports["rjgan_pretrained"] = reports.pop(pretrained)
    markdown = tables(args, command, reports, judge, image_size, builder_config, num_videos,
                      time.time() - began)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(markdown)
    print(f"\n{markdown}\nwritten: {args.output}", flush=True)


# ---------------------------------------------------------------------------------------------
# The markdown


def _fd(reports, name) -> str:
    return f"{reports[name]['metrics']['judge_fd']['value']:.2f}"


def _is(reports, name) -> str:
    score = reports[name]["metrics"]["inception_score"]
    return f"{score['mean']:.3f} ± {score['std']:.3f}"


def _accuracy(judge: dict) -> str:
    """Test accuracy per label, per frame and per video (judge.json's `test_accuracy`)."""
    accuracy = judge.get("test_accuracy") or {}
    parts = [f"{label} {acc['frame']:.2f}/{acc['video']:.2f}" for label, acc in accuracy.items()
             if isinstance(acc, dict) and "frame" in acc and "video" in acc]
    if not parts:
        return "see judge.json"
    count = accuracy.get("num_videos")
    return ", ".join(parts) + " (per frame/per video" + (f", {count} test videos)" if count else ")")


def tables(args, command, reports, judge, image_size, builder_config, num_videos, seconds) -> str:
    steps = {name: r["source"]["step"] for name, r in reports.items()}
    is_label = reports["image_gan"]["metrics"]["inception_score"]["label"]
    data = f"{DATASET}" + (f"/{builder_config}" if builder_config else " (default config)")
    lines = [
        "# rjkeras: the paper's comparisons at a small budget",
        "",
        f"- command: `{command}`",
        (f"- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}; "
         f"wall time of this invocation: {seconds / 60:.1f} min (finished runs reused)"),
        (f"- budget: {args.steps} training steps for every model (`--size={args.size}`, "
         f"{image_size}x{image_size} frames); image pre-training: {args.pretrain_steps} steps of "
         f"`image_gan`; judge: {args.judge_steps} steps (ndf {args.judge_ndf})"),
        f"- data: {data}, train split; judge test accuracy: {_accuracy(judge)}",
        (f"- metrics: classifier Frechet distance (`judge_fd`: Frechet distance of the judge's features "
         f"over {num_videos} real vs {num_videos} generated videos; **not FVD**, lower is better); "
         f"Inception Score under the judge's `{is_label}` head, mean ± std over {args.is_batches} "
         f"batches of {args.is_batch_size} images (higher is better); evaluation seed {args.seed}"),
        "- checkpoint steps evaluated: " + ", ".join(f"{n} {s}" for n, s in steps.items()),
        "",
        ("These numbers come from a small budget on synthetic data: they show the pipeline and the "
         "direction of the comparisons at this budget, not the paper's values (MUG/NIR, FVD with I3D)."),
        "",
        "## Table 2-like: video generation (classifier Frechet distance, not FVD; lower is better)",
        "",
        "| Dataset | MoCoGAN | RMoCoGAN | RJGAN |",
        "|---|---|---|---|",
        f"| {data} | {_fd(reports, 'mocogan')} | {_fd(reports, 'rmocogan')} | {_fd(reports, 'rjgan')} |",
        "",
        "## Table 3-like: pre-training (classifier Frechet distance after "
        f"{args.steps} iterations on videos)",
        "",
        "| | MoCoGAN | RJGAN | RJGAN with pre-training |",
        "|---|---|---|---|",
        (f"| after {args.steps} iterations | {_fd(reports, 'mocogan')} | {_fd(reports, 'rjgan')} | "
         f"{_fd(reports, 'rjgan_pretrained')} |"),
        "",
        (f"RJGAN with pre-training: G_I and D_I start from an `image_gan` run of {args.pretrain_steps} "
         f"steps (`--init_from`), then {args.steps} steps of RJGAN on videos."),
        "",
        "## 1:1 image/video mixture (classifier Frechet distance; lower is better)",
        "",
        "| | MoCoGAN, all videos | RJGAN, 1:1 mixture (`--image_fraction=0.5`) |",
        "|---|---|---|",
        f"| {data} | {_fd(reports, 'mocogan')} | {_fd(reports, 'rjgan_mixture')} |",
        "",
        "## Table 5-like: image generation (Inception Score under the judge; higher is better)",
        "",
        "| Dataset | Baseline (`image_gan`) | RJGAN (G_I(mu)) |",
        "|---|---|---|",
        f"| {data} | {_is(reports, 'image_gan')} | {_is(reports, 'rjgan')} |",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    try:
        app.run(main)
    except KeyboardInterrupt:
        sys.exit("interrupted: rerun the same command to continue (finished steps are reused)")
