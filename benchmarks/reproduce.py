"""Reproduces the paper's comparisons (tables 2, 3 and 5, the 1:1 mixture) with 95% intervals.

    python benchmarks/reproduce.py --workdir=repro --size=small --dataset_config=small \
        --steps=1000 --seeds=0,1,2

Drives the real command-line tools as subprocesses, as a user would run them, on the built-in
`synthetic_sprites` dataset:

1. trains, once per `--seeds` seed and for the same `--steps` each: `mocogan`, `rmocogan`, `rjgan`
   (videos only), `image_gan` (the image baseline), `rjgan --init_from=<that seed's image_gan run>`
   (image pre-training: an `image_gan` run of `--pretrain_steps`, then `--steps` of RJGAN on
   videos), `rjgan --image_fraction=0.5` (the 1:1 image/video mixture), `dsa` and `rjvae`;
2. trains a judge classifier (`python -m rjkeras.eval.train_judge`) at the models' frame size;
3. evaluates every run (`python -m rjkeras.evaluate --repeats=<--eval_repeats>`): `judge_fd` (a
   Frechet distance in the judge's feature space, NOT FVD) for the video models, `is` (Inception
   Score) for `image_gan` and RJGAN's G_I;
4. draws the paper's figures from the first seed's runs (`python -m rjkeras.figures`, into
   `<workdir>/figures/<name>/`);
5. writes a markdown file (`--output`, default `<workdir>/tables.md`): every direction the paper
   states, as a difference of means over the seeds with its 95% Welch interval and a verdict
   (holds / reversed / not resolved), then tables shaped like the paper's tables 2, 3 and 5, the
   mixture and the VAEs, each cell the mean over seeds with its 95% t-interval beside the
   metric's own sampling spread; headed by the command line, the budget, the date and the time
   the whole reproduction took.

Everything lives under `--workdir`: `runs/<name>/seed<k>/` (the work dirs), `judge/`,
`reports/<name>/seed<k>.json`, `figures/<name>/`, `logs/<name>.log` (each subprocess's output), `logs/<name>.cmd`
(the command it ran) and `logs/wall.json` (each phase's wall time). A step whose command already
ran to completion with the same arguments is skipped, so a rerun only does what is missing (add
a seed, or raise `--steps` and the trainer continues the finished runs). Not a test, not run in CI.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import threading
import time
import types
from typing import Callable

from absl import app, flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASET = "synthetic_sprites"


FLAGS = flags.FLAGS


def define_flags() -> None:
    """The script's flags; defined only when it runs, so that its functions can be imported."""
    flags.DEFINE_string("workdir", None, "Root of every run, log and report.")
    flags.DEFINE_enum("size", "small", ["paper", "small", "tiny"],
                      "Size overlay of every model (rjkeras.train --size).")
    flags.DEFINE_integer("steps", 1000, "Training steps of every model (the paper's table 3: 1000 iterations).")
    flags.DEFINE_integer("pretrain_steps", None, "Steps of the image_gan run used as RJGAN's pre-training (default "
                         "--steps; equal to --steps, the image baseline's own run is reused).")
    flags.DEFINE_integer("judge_steps", 2000, "Training steps of the judge.")
    flags.DEFINE_integer("judge_ndf", 64, "Width of the judge (D_I's ndf).")
    flags.DEFINE_string("data_dir", None, "Where prepared TFDS datasets live.")
    flags.DEFINE_string("dataset_config", None,
                        "synthetic_sprites builder config (default the builder's; small, tiny).")
    flags.DEFINE_integer("num_videos", None,
                         "Real and generated videos for judge_fd (default min(624, train videos)).")
    flags.DEFINE_integer("is_batches", 10, "Inception Score batches (paper: 10).")
    flags.DEFINE_integer("is_batch_size", 128, "Images per IS batch (paper: 128).")
    flags.DEFINE_list("seeds", ["0", "1", "2"], "Training seeds: every model is trained once per seed.")
    flags.DEFINE_list("runs", list(RUNS), "The runs to train and compare, of " + ", ".join(RUNS) + " (default "
                      "all); the report states the directions whose two sides are among them. "
                      "rjgan_pretrained trains its image_gan pre-training run whether or not image_gan is listed.")
    flags.DEFINE_integer("eval_repeats", 3,
                         "Generated sets per run for judge_fd and IS (rjkeras.evaluate --repeats).")
    flags.DEFINE_integer("eval_seed", 0, "Seed of every evaluation draw (rjkeras.evaluate --seed).")
    flags.DEFINE_integer("figure_videos", 6, "Videos (rows) per figure of the first seed's runs.")
    flags.DEFINE_integer("jobs", 1, "Commands run at a time, the cores shared out between them "
                         "(TF_NUM_INTRAOP_THREADS); each job's pace then depends on the others'.")
    flags.DEFINE_string("output", None, "Markdown file; default <workdir>/tables.md.")
    flags.DEFINE_list("gan_set", [], "Config overrides (rjkeras.train --set) of every GAN run, e.g. "
                      "model.instance_noise=0.1,model.instance_noise_at=every_conv (MoCoGAN's "
                      "--use_noise); use a --workdir of their own.")
    flags.mark_flag_as_required("workdir")


def parse_args() -> types.SimpleNamespace:
    """The parsed flags, with paths made absolute and the defaults that depend on others."""
    args = types.SimpleNamespace(**{name: FLAGS[name].value for name in (
        "workdir", "size", "steps", "pretrain_steps", "judge_steps", "judge_ndf", "data_dir",
        "dataset_config", "num_videos", "is_batches", "is_batch_size", "seeds", "eval_repeats",
        "eval_seed", "figure_videos", "jobs", "output", "gan_set", "runs")})
    try:
        args.seeds = [int(s) for s in args.seeds]
    except ValueError:
        sys.exit(f"error: --seeds={','.join(args.seeds)}: give integers, e.g. --seeds=0,1,2")
    if not args.seeds or len(set(args.seeds)) != len(args.seeds):
        sys.exit("error: --seeds: give at least one seed, each once")
    unknown = [name for name in args.runs if name not in RUNS]
    if unknown or not args.runs:
        sys.exit(f"error: --runs={','.join(args.runs)}: give one or more of {','.join(RUNS)}")
    args.runs = [name for name in RUNS if name in args.runs]  # the report's order
    if args.pretrain_steps is None:
        args.pretrain_steps = args.steps
    args.workdir = os.path.abspath(args.workdir)
    if args.data_dir:
        args.data_dir = os.path.abspath(os.path.expanduser(args.data_dir))
    args.output = os.path.abspath(args.output or os.path.join(args.workdir, "tables.md"))
    return args


# ---------------------------------------------------------------------------------------------
# Subprocesses


@dataclasses.dataclass
class Job:
    name: str
    cmd: list[str]
    done: Callable[[], bool] = lambda: False
    after: str | None = None  # the job whose result this one needs


class Runner:
    """Runs the reproduction's commands, `--jobs` at a time, each with its log, and keeps the wall
    time of every phase in logs/wall.json (added to by each invocation that runs a command of it),
    so that the report states the whole reproduction's time even when a rerun skipped most of it."""

    def __init__(self, root: str, jobs: int = 1):
        self.logs = os.path.join(root, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.start = time.time()
        self.jobs = jobs
        self._lock = threading.Lock()
        self._wall_path = os.path.join(self.logs, "wall.json")
        try:
            self.phases: dict[str, float] = load_json(self._wall_path)
        except (OSError, ValueError):
            self.phases = {}
        self._env = dict(os.environ, PYTHONUNBUFFERED="1")
        if jobs > 1:  # the cores shared out between the jobs, instead of every job spinning on all
            threads = max(1, (os.cpu_count() or jobs) // jobs)
            self._env.update(TF_NUM_INTRAOP_THREADS=str(threads), OMP_NUM_THREADS=str(threads))

    @property
    def total(self) -> float:
        return time.time() - self.start

    def _elapsed(self) -> str:
        return f"[{self.total:6.0f} s]"

    def run_phase(self, phase: str, jobs: list[Job]) -> None:
        """Runs every job of a phase; a job starts once the job it comes after has finished."""
        base, began = self.phases.get(phase, 0.0), time.time()

        def finished():  # the phase's wall time so far, kept after every command
            with self._lock:
                self.phases[phase] = base + time.time() - began
                with open(self._wall_path, "w") as f:
                    json.dump(self.phases, f, indent=1)

        if self.jobs == 1:
            for job in jobs:
                if self.run(job):
                    finished()
            return
        pending, running = list(jobs), {}
        names = {j.name for j in jobs}
        finished_names = {j.after for j in jobs if j.after and j.after not in names}  # earlier phases
        with concurrent.futures.ThreadPoolExecutor(self.jobs) as pool:
            while pending or running:
                # Start, in order, the jobs whose prerequisite has finished, while a slot is free.
                for job in [j for j in pending if j.after is None or j.after in finished_names]:
                    if len(running) == self.jobs:
                        break
                    pending.remove(job)
                    running[pool.submit(self.run, job)] = job
                done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    if future.exception() is not None:
                        pending.clear()  # the running ones finish; nothing new starts
                        concurrent.futures.wait(running)
                        raise future.exception()
                    if future.result():
                        finished()
                    finished_names.add(job.name)

    def run(self, job: Job) -> bool:
        """Runs the job's command (output to logs/<name>.log) unless the same command already
        completed and `done()` says its result is there; whether it ran. Exits with one line
        naming the command on failure."""
        name, line = job.name, shlex.join(job.cmd)
        log_path = os.path.join(self.logs, f"{name}.log")
        cmd_path = os.path.join(self.logs, f"{name}.cmd")
        previous = None
        if os.path.exists(cmd_path):
            with open(cmd_path) as f:
                previous = f.read().strip()
        if previous == line and job.done():
            print(f"{self._elapsed()} {name}: done already, skipped ({log_path})", flush=True)
            return False
        print(f"{self._elapsed()} {name}: $ {line}", flush=True)
        if os.path.exists(cmd_path):
            os.remove(cmd_path)
        t0 = time.time()
        with open(log_path, "w") as log:
            log.write(f"$ {line}\n")
            log.flush()
            rc = subprocess.call(job.cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=self._env)
        if rc != 0:
            last = _last_line(log_path)
            sys.exit(f"error: {name} failed (exit {rc}): `{line}`; log: {log_path}"
                     + (f"; last line: {last}" if last else ""))
        with open(cmd_path, "w") as f:
            f.write(line + "\n")
        print(f"{self._elapsed()} {name}: finished in {time.time() - t0:.0f} s", flush=True)
        return True


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
# Intervals


# Student's t, 97.5% quantile by degrees of freedom; between two tabulated values the smaller
# dof's (wider) quantile is used, so an interval is never narrower than it should be.
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
         10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042, 60: 2.000, 120: 1.980}


def t975(dof: float) -> float:
    if dof < 1:
        return math.inf
    return _T975[max(k for k in _T975 if k <= dof)] if dof < 1000 else 1.960


def interval(values) -> tuple[float, float]:
    """Mean and the half-width of its 95% t-interval (inf for a single value)."""
    values = [float(v) for v in values]
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, math.inf
    sd = statistics.stdev(values)
    return mean, t975(n - 1) * sd / math.sqrt(n)


def difference(a, b) -> tuple[float, float]:
    """mean(a) - mean(b) and the half-width of its 95% Welch interval (unequal variances)."""
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return statistics.fmean(a) - statistics.fmean(b), math.inf
    va, vb = statistics.variance(a) / na, statistics.variance(b) / nb
    diff = statistics.fmean(a) - statistics.fmean(b)
    if va + vb == 0:
        return diff, 0.0
    dof = (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1))
    return diff, t975(dof) * math.sqrt(va + vb)


def verdict(diff: float, half: float, expected: str) -> str:
    """Whether the 95% interval of `diff` lies on the side the paper expects (expected '<': diff < 0)."""
    low, high = diff - half, diff + half
    if expected == ">":
        low, high = -high, -low
    if high < 0:
        return "holds"
    if low > 0:
        return "reversed"
    return "not resolved"


def sampling_half_width(spreads: list[float], draws: int) -> float:
    """95% half-width of one run's value that the metric's own sampling gives: the pooled standard
    deviation of one draw (a generated set, or an IS batch) over the runs, divided by sqrt(draws)."""
    if draws < 2 or not spreads:
        return math.inf
    pooled = math.sqrt(sum(s * s for s in spreads) / len(spreads))
    return t975(len(spreads) * (draws - 1)) * pooled / math.sqrt(draws)


# ---------------------------------------------------------------------------------------------
# The experiment

# name -> (model, what it is); every one is trained once per seed, for the same --steps.
RUNS = {
    "mocogan": ("mocogan", "MoCoGAN"),
    "rmocogan": ("rmocogan", "RMoCoGAN"),
    "rjgan": ("rjgan", "RJGAN, videos only"),
    "image_gan": ("image_gan", "image baseline"),
    "rjgan_pretrained": ("rjgan", "RJGAN, G_I and D_I from the same seed's image_gan run"),
    "rjgan_mixture": ("rjgan", "RJGAN, 1:1 image/video mixture (--image_fraction=0.5)"),
    "dsa": ("dsa", "DSA (factorized)"),
    "rjvae": ("rjvae", "RJVAE"),
}
VIDEO_RUNS = [name for name in RUNS if name != "image_gan"]
GAN_MODELS = ("mocogan", "rmocogan", "rjgan", "image_gan")
FIGURE_RUNS = ["rjgan", "rjgan_pretrained", "mocogan", "rmocogan", "rjvae", "dsa"]
IS_RUNS = ["image_gan", "rjgan"]


def model_overrides(model: str, gan_set) -> list[str]:
    """The `--set` flags of one run's train command: --gan_set's for a GAN, none for a VAE."""
    return [f"--set={override}" for override in gan_set] if model in GAN_MODELS else []


def main(argv) -> None:
    args = parse_args()
    root = args.workdir
    runs = os.path.join(root, "runs")
    judge_dir = os.path.join(root, "judge")
    os.makedirs(runs, exist_ok=True)
    runner = Runner(root, args.jobs)
    py = sys.executable
    command = shlex.join(["python", "benchmarks/reproduce.py", *sys.argv[1:]])
    print(f"reproduce: {command}\nroot: {root}", flush=True)

    data_flags = []
    if args.data_dir:
        data_flags.append(f"--data_dir={args.data_dir}")
    if args.dataset_config:
        data_flags.append(f"--dataset_config={args.dataset_config}")

    def workdir(name, seed):
        # The pre-trained RJGAN is named by its pre-training budget: a rerun with more --steps
        # continues it only if it started from an image_gan run of the same length.
        if name == "rjgan_pretrained":
            name = f"rjgan_pretrained_p{args.pretrain_steps}"
        elif name == "image_gan_pretraining":
            name = "image_gan" if args.pretrain_steps == args.steps else f"image_gan_p{args.pretrain_steps}"
        return os.path.join(runs, name, f"seed{seed}")

    # 1. Training: seed by seed, so that an interrupted reproduction has whole seeds to show.
    # The pre-trained RJGAN starts from the image baseline's own run when that is listed and as long.
    pretraining = ("image_gan" if "image_gan" in args.runs and args.pretrain_steps == args.steps
                   else "image_gan_pretraining")
    training = []
    for seed in args.seeds:
        plan = [(name, RUNS[name][0], args.steps, []) for name in ("mocogan", "rmocogan", "rjgan", "image_gan")
                if name in args.runs]
        if "rjgan_pretrained" in args.runs:
            if pretraining == "image_gan_pretraining":
                plan.append(("image_gan_pretraining", "image_gan", args.pretrain_steps, []))
            plan.append(("rjgan_pretrained", "rjgan", args.steps,
                         [f"--init_from={workdir(pretraining, seed)}"]))
        plan += [(name, RUNS[name][0], args.steps, extra) for name, extra in (
            ("rjgan_mixture", ["--image_fraction=0.5"]), ("dsa", []), ("rjvae", [])) if name in args.runs]
        for name, model, steps, extra in plan:
            wd = workdir(name, seed)
            cmd = [py, "-m", "rjkeras.train", f"--model={model}", f"--dataset={DATASET}",
                   f"--size={args.size}", f"--steps={steps}", f"--seed={seed}", f"--workdir={wd}",
                   *data_flags, *extra, *model_overrides(model, args.gan_set)]
            training.append(Job(f"train_{name}_seed{seed}", cmd,
                                done=lambda wd=wd, steps=steps: (checkpoint_step(wd) or 0) >= steps,
                                after=f"train_{pretraining}_seed{seed}" if name == "rjgan_pretrained" else None))
    runner.run_phase("train", training)

    sizes = {name: int(load_json(os.path.join(workdir(name, args.seeds[0]), "config.json"))["data"]["image_size"])
             for name in args.runs}
    image_size = sizes[args.runs[0]]
    if set(sizes.values()) != {image_size}:
        sys.exit(f"error: the runs have different frame sizes {sizes}; one judge cannot score them all")
    config = load_json(os.path.join(workdir(args.runs[0], args.seeds[0]), "config.json"))
    builder_config = config["data"].get("builder_config")

    # 2. The judge.
    judge_cmd = [py, "-m", "rjkeras.eval.train_judge", f"--dataset={DATASET}", f"--workdir={judge_dir}",
                 f"--image_size={image_size}", f"--steps={args.judge_steps}", f"--ndf={args.judge_ndf}",
                 *data_flags]
    runner.run_phase("judge", [Job("judge", judge_cmd,
                                   done=lambda: os.path.exists(os.path.join(judge_dir, "judge.json")))])
    judge = load_json(os.path.join(judge_dir, "judge.json"))
    train_videos = int(judge["training"]["num_videos"])
    num_videos = args.num_videos or min(624, train_videos)

    # 3. Evaluation: every run, --eval_repeats generated sets against one real set.
    evaluations, report_paths = [], {}
    for seed in args.seeds:
        for name in args.runs:
            metric_list = (["judge_fd"] if name in VIDEO_RUNS else []) + (["is"] if name in IS_RUNS else [])
            wd = workdir(name, seed)
            report_path = os.path.join(root, "reports", name, f"seed{seed}.json")
            cmd = [py, "-m", "rjkeras.evaluate", f"--workdir={wd}", f"--judge={judge_dir}",
                   f"--metrics={','.join(metric_list)}", f"--num_real={num_videos}",
                   f"--num_generated={num_videos}", f"--repeats={args.eval_repeats}",
                   f"--is_batches={args.is_batches}", f"--is_batch_size={args.is_batch_size}",
                   f"--seed={args.eval_seed}", f"--output={report_path}"]

            def done(wd=wd, report_path=report_path, metric_list=metric_list):
                if not os.path.exists(report_path):
                    return False
                report = load_json(report_path)
                keys = {"is": "inception_score"}
                return (report.get("source", {}).get("step") == checkpoint_step(wd)
                        and all(keys.get(m, m) in report.get("metrics", {}) for m in metric_list))

            evaluations.append(Job(f"evaluate_{name}_seed{seed}", cmd, done=done))
            report_paths.setdefault(name, []).append(report_path)
    runner.run_phase("evaluate", evaluations)
    reports = {name: [load_json(path) for path in paths] for name, paths in report_paths.items()}

    # 4. The paper's figures, from the first seed's runs (rjkeras.figures).
    length = int(config["data"]["num_frames"])
    figures = []
    for name in (name for name in FIGURE_RUNS if name in args.runs):
        out = os.path.join(root, "figures", name)
        baseline = ([f"--baseline={workdir('image_gan', args.seeds[0])}"]
                    if name.startswith("rjgan") and "image_gan" in args.runs else [])
        cmd = [py, "-m", "rjkeras.figures", f"--model={workdir(name, args.seeds[0])}", f"--output={out}",
               f"--num={args.figure_videos}", f"--length={length}", f"--seed={args.eval_seed}", *baseline]
        figures.append(Job(f"figures_{name}", cmd,
                           done=lambda out=out: bool(os.path.isdir(out) and os.listdir(out))))
    runner.run_phase("figures", figures)

    markdown = tables(args, command, reports, judge, image_size, builder_config, num_videos, runner)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(markdown)
    print(f"\n{markdown}\nwritten: {args.output}", flush=True)


# ---------------------------------------------------------------------------------------------
# The markdown


def fd_values(reports: list[dict]) -> tuple[list[float], list[float], int]:
    """judge_fd per seed, each seed's spread over its generated sets, and the sets per seed."""
    results = [r["metrics"]["judge_fd"] for r in reports]
    return ([x["value"] for x in results], [x.get("std", 0.0) for x in results],
            len(results[0].get("repeats", [0])))


def is_values(reports: list[dict]) -> tuple[list[float], list[float], int]:
    """Inception Score per seed, each seed's std over its batches (ddof 1), batches per seed."""
    scores = [r["metrics"]["inception_score"] for r in reports]
    batches = [s["per_label"][s["label"]]["scores"] for s in scores]
    return ([s["mean"] for s in scores], [statistics.stdev(b) if len(b) > 1 else 0.0 for b in batches],
            len(batches[0]))


def _num(x: float, signed: bool = False) -> str:
    """Three significant digits at least, and never fewer than two decimals below 100."""
    if abs(x) >= 100:
        decimals = 1
    elif abs(x) >= 1 or x == 0:
        decimals = 2
    else:
        decimals = max(2, 2 - math.floor(math.log10(abs(x))))
    return f"{x:+.{decimals}f}" if signed else f"{x:.{decimals}f}"


def _pm(half: float) -> str:
    return "n/a" if math.isinf(half) else _num(half)


def _cell(values, spreads, draws) -> str:
    mean, half = interval(values)
    per_seed = ", ".join(_num(v) for v in values)
    sampling = _pm(sampling_half_width(spreads, draws))
    return f"**{_num(mean)} ± {_pm(half)}** (seeds: {per_seed}; sampling ± {sampling})"


def directions(fd: dict, inception: dict) -> list[tuple[str, str, str, float, float, str, str]]:
    """(what, source in the paper, metric, difference, its 95% half-width, verdict, seeds apart)
    of every direction the paper states, and of ours for the VAEs."""
    checks = [
        ("RJGAN < RMoCoGAN", "table 2", fd, "rjgan", "rmocogan", "<"),
        ("RMoCoGAN < MoCoGAN", "table 2", fd, "rmocogan", "mocogan", "<"),
        ("RJGAN < MoCoGAN", "table 2", fd, "rjgan", "mocogan", "<"),
        ("RJGAN with pre-training < RJGAN", "table 3", fd, "rjgan_pretrained", "rjgan", "<"),
        ("RJGAN with pre-training < MoCoGAN", "table 3", fd, "rjgan_pretrained", "mocogan", "<"),
        ("RJGAN on the 1:1 mixture < MoCoGAN on all videos", "section 5.1", fd, "rjgan_mixture", "mocogan", "<"),
        ("IS of RJGAN's G_I(mu) > image baseline", "table 5", inception, "rjgan", "image_gan", ">"),
        ("RJVAE < DSA", "ours (the paper: human scores only)", fd, "rjvae", "dsa", "<"),
    ]
    out = []
    for what, where, values, a, b, expected in checks:
        if a not in values or b not in values:  # a run left out by --runs
            continue
        diff, half = difference(values[a], values[b])
        out.append((what, where, "judge_fd" if values is fd else "IS", diff, half, verdict(diff, half, expected),
                    apart(values[a], values[b], expected)))
    return out


def apart(a, b, expected: str) -> str:
    """Whether every seed of `a` is on the paper's side of every seed of `b`, and the exact one-sided
    p-value of that under the null (a permutation test: 1 / C(na + nb, na); 0.05 for 3 vs 3, the
    least three seeds a side can give)."""
    pairs = [(x < y) if expected == "<" else (x > y) for x in a for y in b]
    if all(pairs):
        return f"all (p = {1 / math.comb(len(a) + len(b), len(a)):.2g})"
    return "none" if not any(pairs) else f"{sum(pairs)} of {len(pairs)} pairs"


def tables(args, command, reports, judge, image_size, builder_config, num_videos, runner) -> str:
    fd = {name: fd_values(reports[name]) for name in VIDEO_RUNS if name in reports}
    inception = {name: is_values(reports[name]) for name in IS_RUNS if name in reports}
    steps = sorted({r["source"]["step"] for rs in reports.values() for r in rs})
    is_label = next((rs[0]["metrics"]["inception_score"]["label"] for name, rs in reports.items()
                     if name in IS_RUNS), None)
    data = f"{DATASET}" + (f"/{builder_config}" if builder_config else " (default config)")
    seeds = ", ".join(str(s) for s in args.seeds)
    phases = ", ".join(f"{phase} {seconds / 60:.1f} min" for phase, seconds in runner.phases.items())
    whole = sum(runner.phases.values())
    jobs = f", {args.jobs} commands at a time" if args.jobs > 1 else ""
    lines = [
        "# rjkeras: the paper's comparisons, with 95% intervals",
        "",
        f"- command: `{command}`",
        (f"- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}; the whole "
         f"reproduction took {whole / 60:.1f} min of wall time ({phases}{jobs}), this invocation "
         f"{runner.total / 60:.1f} min (finished commands are reused)"),
        (f"- budget: {args.steps} training steps for every model and seed (`--size={args.size}`, "
         f"{image_size}x{image_size} frames); image pre-training: {args.pretrain_steps} steps of "
         f"`image_gan`; judge: {args.judge_steps} steps (ndf {args.judge_ndf})"
         + (f"; every GAN with `--set` {', '.join(args.gan_set)}" if args.gan_set else "")),
        f"- seeds: {seeds} (`--seed` of `rjkeras.train`: a run of its own per seed)",
        *([f"- runs: {', '.join(args.runs)} (`--runs`; the directions and tables of the others are left out)"]
          if set(args.runs) != set(RUNS) else []),
        f"- data: {data}, train split; judge test accuracy: {_accuracy(judge)}",
        (f"- judge_fd: Frechet distance of the judge's features over {num_videos} real vs "
         f"{num_videos} generated videos (**not FVD**; lower is better), the mean over "
         f"{args.eval_repeats} generated sets per run"
         + (f"; IS: Inception Score under the judge's `{is_label}` head over {args.is_batches} batches "
            f"of {args.is_batch_size} images per set (higher is better)" if is_label else "")
         + f"; evaluation seed {args.eval_seed}"),
        "- checkpoint steps evaluated: " + ", ".join(str(s) for s in steps),
        ("- each cell: **mean over seeds ± the half-width of its 95% t-interval** (seed-to-seed "
         "spread, which includes the metric's sampling spread); the seeds' values; and `sampling ±`, "
         "the 95% half-width that the metric's own sampling alone gives one run's value (pooled over "
         "the runs: generated sets for judge_fd, batches for IS)"),
        "",
        ("Synthetic data at a small budget: these are the directions of the paper's comparisons at "
         "this budget, not its values (MUG/NIR, FVD with I3D)."),
        "",
        "## Directions (difference of means, 95% Welch interval)",
        "",
        "| direction | paper | metric | difference | 95% interval | verdict | seeds on the paper's side |",
        "|---|---|---|---:|---|---|---|",
    ]
    for what, where, metric, diff, half, result, seeds_apart in directions(
            {k: v[0] for k, v in fd.items()}, {k: v[0] for k, v in inception.items()}):
        bounds = ("one seed: none" if math.isinf(half)
                  else f"[{_num(diff - half, True)}, {_num(diff + half, True)}]")
        lines.append(f"| {what} | {where} | {metric} | {_num(diff, True)} | {bounds} | {result} | {seeds_apart} |")
    lines += [
        "",
        ("`holds`: the whole interval is on the paper's side; `reversed`: the whole interval is on "
         "the other side; `not resolved`: the interval contains 0 at this budget and number of seeds. "
         "The last column compares the seeds pair by pair: `all` when every seed of the first model is "
         "on the paper's side of every seed of the second, with the exact one-sided p-value of that "
         "by chance (a permutation test, free of the t-interval's normality; 0.05 is the least 3 "
         "seeds a side can give)."),
    ]

    def cell(values, name):
        return _cell(*values[name]) if name in values else "not run (`--runs`)"

    sections = [
        ("## Table 2-like: video generation (judge_fd; lower is better)",
         ["Dataset", "MoCoGAN", "RMoCoGAN", "RJGAN"], fd, ["mocogan", "rmocogan", "rjgan"], data, [],
         ["mocogan", "rmocogan", "rjgan"]),
        (f"## Table 3-like: pre-training (judge_fd after {args.steps} iterations on videos)",
         ["", "MoCoGAN", "RJGAN", "RJGAN with pre-training"], fd, ["mocogan", "rjgan", "rjgan_pretrained"],
         f"after {args.steps} iterations",
         [f"RJGAN with pre-training: G_I and D_I start from the same seed's `image_gan` run of "
          f"{args.pretrain_steps} steps (`--init_from`), then {args.steps} steps of RJGAN on videos."],
         ["rjgan_pretrained"]),
        ("## 1:1 image/video mixture (judge_fd; lower is better)",
         ["", "MoCoGAN, all videos", "RJGAN, 1:1 mixture (`--image_fraction=0.5`)"], fd,
         ["mocogan", "rjgan_mixture"], data, [], ["rjgan_mixture"]),
        ("## Table 5-like: image generation (Inception Score under the judge; higher is better)",
         ["Dataset", "Baseline (`image_gan`)", "RJGAN (G_I(mu))"], inception, ["image_gan", "rjgan"], data,
         [f"The judge's `{is_label}` head has {_classes(judge, is_label)} classes: the most an IS can be."],
         ["image_gan", "rjgan"]),
        ("## The VAEs (judge_fd; lower is better; the paper compared them by human scores only)",
         ["Dataset", "DSA", "RJVAE"], fd, ["dsa", "rjvae"], data, [], ["dsa", "rjvae"]),
    ]
    # Each: title, header, values, its runs, row label, notes, and the runs it is about: it is
    # left out when --runs left out every one of those.
    for title, header, values, names, row, notes, about in sections:
        if not any(name in values for name in about):
            continue
        lines += ["", title, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header),
                  f"| {row} | " + " | ".join(cell(values, name) for name in names) + " |"]
        lines += [line for note in notes for line in ("", note)]
    lines.append("")
    return "\n".join(lines)


def _classes(judge: dict, label: str):
    classes = (judge.get("classes") or {}).get(label)
    return len(classes) if classes is not None else "(see judge.json)"


def _accuracy(judge: dict) -> str:
    """Test accuracy per label, per frame and per video (judge.json's `test_accuracy`)."""
    accuracy = judge.get("test_accuracy") or {}
    parts = [f"{label} {acc['frame']:.2f}/{acc['video']:.2f}" for label, acc in accuracy.items()
             if isinstance(acc, dict) and "frame" in acc and "video" in acc]
    if not parts:
        return "see judge.json"
    count = accuracy.get("num_videos")
    return ", ".join(parts) + " (per frame/per video" + (f", {count} test videos)" if count else ")")


if __name__ == "__main__":
    define_flags()
    try:
        app.run(main)
    except KeyboardInterrupt:
        sys.exit("interrupted: rerun the same command to continue (finished steps are reused)")
