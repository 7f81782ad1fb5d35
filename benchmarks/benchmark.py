"""Training speed, input-pipeline throughput and the commands' peak memory on this machine.

    python benchmarks/benchmark.py                        # every model at the paper's sizes
    python benchmarks/benchmark.py --size=small --json=small.json
    python benchmarks/benchmark.py --size=tiny --dataset_config=tiny --steps=2 \\
        --eval_videos=16 --eval_groups=2                  # smoke check (--commands=: training only)

For each model the resolved preset (the same config `python -m rjkeras.train` would run) is
built under the trainer's strategy and compiled, and its train steps are timed the way
`model.fit` runs them: `model.train_function` called on a distributed iterator. The batches are
one synthetic in-memory batch (uniform noise in [-1, 1]), so data loading is excluded; the input
pipeline (`rjkeras.data.videos`) is timed on its own. After `--warmup` steps (the first one
traces the graph) `--steps` steps are timed in blocks of `--block` steps; the reported time is
the median over blocks of seconds per step.

Every measurement runs in its own subprocess (this script re-invoked with the internal
`--worker` flag), so the peak resident memory reported (VmHWM, the process's high-water mark,
TensorFlow's ~0.6 GB included) belongs to one model alone and TensorFlow state never leaks
between measurements. GFLOP/step counts the float operations (a multiply-add is 2) of the
traced train step with TensorFlow's profiler; it misses what runs inside loops (the LSTMs:
well under 1% here).

Peak memory of the other commands: each timed model's weights (after the timed steps) are saved
as a work dir, as `rjkeras.train` writes one, and `python -m rjkeras.evaluate` and
`python -m rjkeras.export` are run on it as a user runs them, each in its own process, whose peak
resident memory is read from the kernel when it ends (wait4's ru_maxrss). Evaluation uses a judge
of random weights (the judge's architecture, D_I with ndf 64, at the model's frame size; its
scores mean nothing, its memory and time are the real judge's): the Inception Score,
`judge_fd` over `--eval_videos` real videos (read from the dataset) and as many generated ones,
and the disentanglement scores over `--eval_groups` groups; FVD only with `--i3d` (its weights
cannot be downloaded here).

On a shared machine other jobs take cores: "CPU s/step" (this process, all threads) and
"others' cores" (what the rest of the machine kept busy meanwhile, from /proc/stat) say how
much of the machine a measurement had. Compare times taken with others' cores near 0.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter

from absl import app, flags  # noqa: E402

from rjkeras import config as config_lib  # noqa: E402  (no TensorFlow import: the parent stays light)
from rjkeras import runtime  # noqa: E402
from rjkeras.cli import parse_only_flags  # noqa: E402
from rjkeras.errors import UserError, fail  # noqa: E402

FLAGS = flags.FLAGS
# Every model: the VAEs take {"video": (B, T, H, W, 3)} batches, the GANs frames and clips.
TIMED_MODELS = ("rjvae", "dsa", "mocogan", "rjgan", "rmocogan", "image_gan")


def define_flags() -> None:
    """The script's flags; defined only when it runs, so that importing it defines none."""
    flags.DEFINE_list("models", list(TIMED_MODELS), "Models to time, comma-separated.")
    flags.DEFINE_enum("size", "paper", list(config_lib.SIZES),
                      "Preset size: the paper's (64x64, 8 frames, batch 25), or the small/tiny overlays.")
    flags.DEFINE_integer("steps", None, "Timed train steps per model; default 3 (paper) or 20 (small, tiny).")
    flags.DEFINE_integer("warmup", 1, "Untimed steps before timing; the first one traces the graph.")
    flags.DEFINE_integer("block", None, "Steps per timed block; default 1 (paper) or 5 (small, tiny).")
    flags.DEFINE_integer("batch_size", None, "Global batch size (train.batch_size); default: the preset's.")
    flags.DEFINE_string("dataset", "synthetic_sprites", "Dataset of the preset and of the input pipeline.")
    flags.DEFINE_string("dataset_config", None,
                        "TFDS builder config of the input pipeline (data.builder_config).")
    flags.DEFINE_string("data_dir", None, "Where prepared datasets live (prepared on demand).")
    flags.DEFINE_string("manual_dir", None, "Raw files, for datasets that need them (sprites).")
    flags.DEFINE_multi_string("set", [], "Any config field: --set model.conv_channels=128 (repeatable).")
    flags.DEFINE_enum("strategy", "mirrored", ["mirrored", "none"],
                      "mirrored: tf.distribute.MirroredStrategy over the local devices, as the trainer; "
                      "none: the default strategy.")
    flags.DEFINE_integer("pipeline_batches", 100, "Batches timed of the input pipeline; 0 skips it.")
    flags.DEFINE_integer("pipeline_warmup", 3, "Untimed batches of the input pipeline before timing.")
    flags.DEFINE_bool("flops", True, "Count the float operations of a train step (TensorFlow's "
                      "profiler), beside the worker's float32 matmul rate.")
    flags.DEFINE_string("json", None, "Also write the results to this JSON file.")
    flags.DEFINE_list("commands", ["evaluate", "export"], "Commands whose peak memory is measured on each "
                      "model's saved work dir (evaluate, export); empty: none.")
    flags.DEFINE_list("command_models", None, "Models whose commands are measured; default: all of --models.")
    flags.DEFINE_integer("eval_videos", 624, "Evaluation: real and generated videos (--num_real, "
                         "--num_generated; the paper's 624).")
    flags.DEFINE_integer("eval_groups", 64, "Evaluation: disentanglement groups (--groups; VAEs: groups x 8 "
                         "real test videos).")
    flags.DEFINE_integer("eval_batch_size", 32, "Evaluation: videos generated and judged at a time.")
    flags.DEFINE_string("i3d", None, "Evaluation: also FVD, with these I3D weights (see the README).")
    # Internal: the per-measurement subprocess.
    flags.DEFINE_enum("worker", None, ["train", "pipeline"], "(internal) Run one measurement and exit.")
    flags.DEFINE_string("worker_config", None, "(internal) The worker's resolved config (JSON file).")
    flags.DEFINE_string("worker_output", None, "(internal) Where the worker writes its result (JSON).")
    flags.DEFINE_string("worker_workdir", None, "(internal) Train worker: save the model as a work dir here.")
    flags.DEFINE_string("worker_judge", None, "(internal) Train worker: write a judge of random weights here.")


DEFAULT_STEPS = {"paper": 3, "small": 20, "tiny": 20}
DEFAULT_BLOCK = {"paper": 1, "small": 5, "tiny": 5}


def _say(message: str) -> None:
    """A progress line (stdout: the workers' stderr holds TensorFlow's chatter, shown on failure)."""
    print(message, flush=True)


def peak_rss_mib() -> float:
    """This process's resident-memory high-water mark (VmHWM), in MiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    import resource  # not on /proc systems; ru_maxrss is kB on Linux, bytes on macOS

    scale = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes on the machine have been busy (/proc/stat), None if unknown."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------------------------
# Workers: one measurement each, in a fresh process.


def _strategy(name: str):
    import tensorflow as tf

    return tf.distribute.MirroredStrategy() if name == "mirrored" else tf.distribute.get_strategy()


def synthetic_batch(config: config_lib.Config) -> tuple[dict, int]:
    """One global batch of random inputs shaped as train_step takes them, and its real frames.

    VAEs: {"video": (B, T, H, W, 3)}. GANs: {"frames": (B_I, H, W, 3), "clips": (B, L, H, W, 3)}
    (+ the category labels when MoCoGAN's categories are on).
    """
    import numpy as np

    rng = np.random.default_rng(0)
    d, batch = config.data, config.train.batch_size
    frame = (d.image_size, d.image_size, 3)
    if config.model_name not in config_lib.GAN_MODELS:
        return {"video": rng.uniform(-1, 1, (batch, d.num_frames) + frame).astype(np.float32)}, \
            batch * d.num_frames
    m = config.model
    inputs = {"frames": rng.uniform(-1, 1, (m.image_batch_size,) + frame).astype(np.float32),
              "clips": rng.uniform(-1, 1, (batch, m.clip_length) + frame).astype(np.float32)}
    if m.categorical_discriminator:
        inputs[f"clip_{m.category_label}"] = rng.integers(0, m.category_dim, batch)
    return inputs, m.image_batch_size + batch * m.clip_length


def batched_dataset(inputs: dict):
    """The batch as a batched tf.data.Dataset (each key batched alone, then zipped), so the
    strategy splits every key over the replicas as it splits the trainer's pipelines."""
    import tensorflow as tf

    parts = {k: tf.data.Dataset.from_tensor_slices(v).batch(len(v), drop_remainder=True)
             for k, v in inputs.items()}
    return tf.data.Dataset.zip(parts)


def _train_step_flops(model, strategy, element_spec) -> float | None:
    """Float operations of one global train step, from the traced graph (None if unavailable)."""
    import tensorflow as tf

    @tf.function
    def step(batch):
        return strategy.run(model.train_step, args=(batch,))

    try:
        graph = step.get_concrete_function(element_spec).graph
        options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        options["output"] = "none"
        profile = tf.compat.v1.profiler.profile(graph, options=options)
    except Exception as e:  # the count is optional: never fail a benchmark over it
        _say(f"  (no FLOP count: {type(e).__name__}: {e})")
        return None
    # strategy.run traces one copy of the step per replica, each on a per-replica batch.
    return float(profile.total_float_ops) or None


MATMUL_SIZE = 2048


def matmul_gflop_per_s(size: int = MATMUL_SIZE, repeats: int = 5) -> float:
    """This process's float32 matmul rate (best of `repeats` size x size products, in one
    `tf.function`): about the most this CPU gives TensorFlow in float32, so a step's GFLOP/s
    over it says how much of the CPU the step uses (its convolutions, on smaller operands, run
    below it)."""
    import tensorflow as tf

    a = tf.random.normal([size, size], seed=0)
    product = tf.function(lambda: tf.reduce_sum(tf.matmul(a, a)))
    product().numpy()  # traced and warmed
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        product().numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


def train_worker(config: config_lib.Config, steps: int, warmup: int, block: int, strategy_name: str,
                 count_flops: bool, workdir: str | None = None, judge_dir: str | None = None) -> dict:
    import numpy as np
    import tensorflow as tf

    from rjkeras.models import build_model, compile_model

    name, d, batch = config.model_name, config.data, config.train.batch_size
    length = getattr(config.model, "clip_length", d.num_frames)  # frames per (D_V's) video
    runtime.limit_concurrent_ops(config.train.inter_op_threads)  # as the trainer does, before any op
    strategy = _strategy(strategy_name)
    replicas = strategy.num_replicas_in_sync
    if batch % replicas:
        raise UserError(f"batch size {batch} must be divisible by the {replicas} replicas")
    start = time.perf_counter()
    with strategy.scope():
        model = compile_model(build_model(config), config)
    build_s = time.perf_counter() - start
    params = int(sum(np.prod(v.shape) for v in model.trainable_variables))
    _say(f"[{name}] built in {build_s:.1f} s: {params / 1e6:.2f} M parameters, batch {batch}, "
         f"{length} frames of {d.image_size}x{d.image_size}, {replicas} replica(s)")

    matmul = matmul_gflop_per_s() if count_flops else None  # before the step's threads are busy
    inputs, frames_per_step = synthetic_batch(config)
    # One batch, cached: each step gets the same tensors without a copy.
    dataset = batched_dataset(inputs)
    iterator = iter(strategy.experimental_distribute_dataset(dataset.cache().repeat()))
    model.make_train_function()

    def run(num_steps):
        """Wall and process CPU seconds of num_steps steps, the cores other processes kept busy
        meanwhile (None where unknown), and the last loss."""
        wall, cpu, busy = time.perf_counter(), time.process_time(), machine_busy_seconds()
        for _ in range(num_steps):
            logs = model.train_function(iterator)
        loss = float(logs["loss"] if "loss" in logs else logs["g_loss"])  # waits for the step
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        others = None if busy is None else max(machine_busy_seconds() - busy - cpu, 0.0) / wall
        return wall, cpu, others, loss

    warmup_s = []
    for i in range(warmup):
        seconds, _, _, loss = run(1)
        warmup_s.append(seconds)
        _say(f"[{name}] warmup step {i + 1}/{warmup}: {seconds:.2f} s{' (tracing)' if i == 0 else ''}")
    per_step, cpu_per_step, others_cores = [], [], []  # one entry per timed block
    done = 0
    while done < steps:
        n = min(block, steps - done)
        seconds, cpu, others, loss = run(n)
        per_step.append(seconds / n)
        cpu_per_step.append(cpu / n)
        if others is not None:
            others_cores.append(others)
        done += n
        _say(f"[{name}] timed steps {done}/{steps}: {seconds / n:.3f} s/step, {cpu / n:.3f} CPU s/step, "
             f"other processes busy on {_fmt(others, '.2f')} cores (loss {loss:.4g})")
    median = statistics.median(per_step)
    # Training's own high-water mark: the FLOP count below traces the step once more, and its
    # graph and profile raised the peak by 35 MiB at 64x64, 8 frames, batches 16/16.
    peak = peak_rss_mib()

    flops = None
    if count_flops:
        start = time.perf_counter()
        per_replica = tf.nest.map_structure(
            lambda spec: tf.TensorSpec((spec.shape[0] // replicas,) + tuple(spec.shape[1:]), spec.dtype),
            dataset.element_spec)
        flops = _train_step_flops(model, strategy, per_replica)
        _say(f"[{name}] FLOP count in {time.perf_counter() - start:.1f} s")
    result = {
        "model": name,
        "params": params,
        "batch_size": batch,
        "num_frames": length,
        "image_size": d.image_size,
        "replicas": replicas,
        "build_s": build_s,
        "warmup_s": warmup_s,
        "block_s_per_step": per_step,
        "timed_steps": steps,
        "s_per_step": median,
        "s_per_step_min": min(per_step),
        "s_per_step_max": max(per_step),
        "cpu_s_per_step": statistics.median(cpu_per_step),  # process CPU time: / s_per_step = cores busy
        "others_cores": statistics.median(others_cores) if others_cores else None,
        "steps_per_s": 1.0 / median,
        "videos_per_s": batch / median,
        "frames_per_s": frames_per_step / median,  # real frames consumed (GANs: D_I's + D_V's)
        "gflop_per_step": flops / 1e9 if flops else None,
        "gflop_per_s": flops / 1e9 / median if flops else None,
        "matmul_gflop_per_s": matmul,
        "final_loss": loss,
        "peak_rss_mib": peak,
    }
    if workdir:
        save_workdir(model, config, workdir)
    if judge_dir and not os.path.exists(judge_dir):
        write_random_judge(config, judge_dir)
    return result


def save_workdir(model, config: config_lib.Config, workdir: str) -> None:
    """The model as `rjkeras.train` leaves a work dir: config.json and a checkpoint."""
    from rjkeras import runs

    runs.write_config(workdir, config)
    step = int(model.optimizer.iterations.numpy())
    runs.checkpoint_manager(model, workdir).save(checkpoint_number=step)
    _say(f"[{config.model_name}] saved as a work dir at step {step}")


def write_random_judge(config: config_lib.Config, judge_dir: str) -> None:
    """A judge of random weights for the evaluation's memory: the judge's network (D_I, ndf 64)
    at the model's frame size, with the dataset's default labels; its scores mean nothing."""
    from rjkeras import data as data_lib
    from rjkeras.eval import judge as judge_lib

    d = config.data
    labels = list(judge_lib.DEFAULT_LABELS.get(d.dataset, ()))
    if not labels:
        return  # no judge: the evaluation is skipped
    info = data_lib.dataset_info(d.dataset, data_dir=d.data_dir, manual_dir=d.manual_dir,
                                 builder_config=d.builder_config)
    judge = judge_lib.new_judge({
        "dataset": d.dataset, "builder_config": info.config, "image_size": d.image_size, "ndf": 64,
        "labels": labels, "classes": {label: info.label_names[label] for label in labels},
        "roles": {label: judge_lib.LABEL_ROLES.get(label, "other") for label in labels},
        "training": "none: random weights (benchmarks/benchmark.py, for memory and time only)"})
    judge.save(judge_dir)


def pipeline_worker(config: config_lib.Config, num_batches: int, warmup: int) -> dict:
    from rjkeras import data as data_lib

    d, batch = config.data, config.train.batch_size
    start = time.perf_counter()
    dataset = data_lib.videos(d.dataset, "train", batch_size=batch, data_dir=d.data_dir,
                              manual_dir=d.manual_dir, builder_config=d.builder_config,
                              image_size=d.image_size, num_frames=d.num_frames, shuffle=True,
                              repeat=True, seed=config.train.seed)
    iterator = iter(dataset)
    for _ in range(warmup):
        next(iterator)
    ready_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(num_batches):
        batch_videos = next(iterator)["video"]
    batch_videos.numpy()
    seconds = time.perf_counter() - start
    _say(f"[input pipeline] {num_batches} batches of {batch} in {seconds:.2f} s "
         f"({num_batches * batch / seconds:.0f} videos/s)")
    return {
        "dataset": d.dataset,
        "builder_config": d.builder_config,
        "batch_size": batch,
        "num_frames": d.num_frames,
        "image_size": d.image_size,
        "batches": num_batches,
        "ready_s": ready_s,  # preparing (if needed), opening and the warmup batches
        "s_per_batch": seconds / num_batches,
        "videos_per_s": num_batches * batch / seconds,
        "frames_per_s": num_batches * batch * d.num_frames / seconds,
        "peak_rss_mib": peak_rss_mib(),
    }


def run_worker() -> None:
    from absl import logging

    logging.set_verbosity(logging.ERROR)  # TFDS's and tf.distribute's INFO lines, deprecation notes
    with open(FLAGS.worker_config) as f:
        config = config_lib.from_dict(json.load(f))
    if FLAGS.worker == "train":
        result = train_worker(config, FLAGS.steps, FLAGS.warmup, FLAGS.block, FLAGS.strategy, FLAGS.flops,
                              FLAGS.worker_workdir, FLAGS.worker_judge)
    else:
        result = pipeline_worker(config, FLAGS.pipeline_batches, FLAGS.pipeline_warmup)
    with open(FLAGS.worker_output, "w") as f:
        json.dump(result, f, indent=2)


# ----------------------------------------------------------------------------------------------
# The parent: resolve configs, run one worker per measurement, print the table.


def resolve(model: str) -> config_lib.Config:
    if model not in TIMED_MODELS:
        raise UserError(f"--models: cannot time {model!r}; choose from {', '.join(TIMED_MODELS)}")
    overrides = {"data.builder_config": FLAGS.dataset_config, "data.data_dir": FLAGS.data_dir,
                 "data.manual_dir": FLAGS.manual_dir}
    if model in config_lib.GAN_MODELS and FLAGS.size == "paper":
        # MoCoGAN's setting: 16-frame clips, image and video batches of 16.
        overrides.update({"model.clip_length": 16, "model.image_batch_size": 16, "train.batch_size": 16})
    if FLAGS.batch_size is not None:
        overrides["train.batch_size"] = FLAGS.batch_size
    overrides.update(config_lib.parse_assignments(FLAGS.set))
    return config_lib.resolve(model, FLAGS.dataset, size=FLAGS.size, overrides=overrides)


def spawn(kind: str, config: config_lib.Config, workdir: str, label: str, steps: int, block: int,
          extra: tuple[str, ...] = ()):
    """Runs one worker subprocess; returns its result dict, or None if it failed."""
    config_path = os.path.join(workdir, f"{label}_config.json")
    output_path = os.path.join(workdir, f"{label}_result.json")
    with open(config_path, "w") as f:
        f.write(config.to_json())
    command = [sys.executable, os.path.abspath(__file__), f"--worker={kind}",
               f"--worker_config={config_path}", f"--worker_output={output_path}",
               f"--steps={steps}", f"--block={block}", f"--warmup={FLAGS.warmup}",
               f"--strategy={FLAGS.strategy}", f"--flops={str(FLAGS.flops).lower()}",
               f"--pipeline_batches={FLAGS.pipeline_batches}",
               f"--pipeline_warmup={FLAGS.pipeline_warmup}", *extra]
    log_path = os.path.join(workdir, f"{label}.log")
    with open(log_path, "w") as log:
        returncode = subprocess.call(command, stderr=log)
    if returncode != 0 or not os.path.exists(output_path):
        with open(log_path) as log:
            tail = log.read()[-3000:]
        print(f"{tail}\n[{label}] failed (exit status {returncode}); its log ends above",
              file=sys.stderr, flush=True)
        return None
    with open(output_path) as f:
        return json.load(f)


def run_measured(command: list[str], log_path: str) -> dict:
    """Runs a command in its own process; its exit status, wall seconds and peak resident memory
    (the kernel's ru_maxrss of the process, from wait4, so not mixed with any other process's)."""
    start = time.perf_counter()
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            scale = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0  # bytes on macOS, else KiB
            peak = usage.ru_maxrss / scale
        else:
            process.wait()
            peak = None
    return {"returncode": process.returncode, "seconds": time.perf_counter() - start, "peak_rss_mib": peak}


def measure_commands(config: config_lib.Config, workdir: str, judge_dir: str | None, logs: str) -> dict:
    """Peak memory and time of `rjkeras.evaluate` and `rjkeras.export` on a saved work dir."""
    name = config.model_name
    out = {"model": name}
    if "evaluate" in FLAGS.commands:
        command = [sys.executable, "-m", "rjkeras.evaluate", f"--workdir={workdir}",
                   f"--num_real={FLAGS.eval_videos}", f"--num_generated={FLAGS.eval_videos}",
                   f"--groups={FLAGS.eval_groups}", f"--batch_size={FLAGS.eval_batch_size}",
                   f"--output={os.path.join(workdir, 'eval.json')}"]
        has_judge = bool(judge_dir) and os.path.exists(judge_dir)
        command += [f"--judge={judge_dir}"] if has_judge else []
        command += [f"--i3d={FLAGS.i3d}"] if FLAGS.i3d else []
        if not has_judge and not FLAGS.i3d:
            _say(f"[{name}] evaluate: skipped (no judge for {config.data.dataset}, no --i3d)")
        else:
            _say(f"[{name}] evaluate: {' '.join(command[1:])}")
            log_path = os.path.join(logs, f"{name}_eval.log")
            out["evaluate"] = _command_result(name, "evaluate", command, log_path)
            if out["evaluate"]:
                with open(os.path.join(workdir, "eval.json")) as f:
                    report = json.load(f)
                out["evaluate"].update(metrics=sorted(report["metrics"]), num_videos=FLAGS.eval_videos,
                                       groups=FLAGS.eval_groups, batch_size=FLAGS.eval_batch_size,
                                       judge="random weights" if has_judge else None)
    if "export" in FLAGS.commands:
        saved = os.path.join(workdir, "saved_model")
        command = [sys.executable, "-m", "rjkeras.export", f"--workdir={workdir}", f"--output={saved}"]
        _say(f"[{name}] export: {' '.join(command[1:])}")
        out["export"] = _command_result(name, "export", command, os.path.join(logs, f"{name}_export.log"))
        if out["export"]:
            out["export"]["saved_model_mib"] = sum(
                os.path.getsize(os.path.join(folder, f)) for folder, _, files in os.walk(saved)
                for f in files) / 2**20
    return out


def _command_result(model: str, command: str, argv: list[str], log_path: str) -> dict | None:
    result = run_measured(argv, log_path)
    if result["returncode"] != 0:
        with open(log_path) as log:
            tail = log.read()[-3000:]
        print(f"{tail}\n[{model}] {command} failed (exit status {result['returncode']}); its log ends "
              "above", file=sys.stderr, flush=True)
        return None
    _say(f"[{model}] {command}: {result['seconds']:.1f} s, "
         f"peak RSS {_fmt(result['peak_rss_mib'], '.0f')} MiB")
    return result


def _fmt(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _matmul_share(result: dict) -> float | None:
    """The step's GFLOP/s as a percentage of the same worker's matmul rate."""
    if not result.get("gflop_per_s") or not result.get("matmul_gflop_per_s"):
        return None
    return 100 * result["gflop_per_s"] / result["matmul_gflop_per_s"]


def markdown(results: list[dict], pipeline: dict | None, meta: dict, commands: list[dict] = ()) -> str:
    lines = [f"Train steps ({meta['size']} size, strategy {meta['strategy']}, synthetic in-memory "
             f"batches; median of {meta['steps']} timed steps in blocks of {meta['block']} after "
             f"{meta['warmup']} warmup; {meta['cpus']} CPUs ({meta['machine']}); TensorFlow {meta['tensorflow']}, "
             f"Keras {meta['keras']}):", "",
             "| model | params (M) | batch x frames x size | s/step (median) | min-max s/step | "
             "CPU s/step | others' cores | steps/s | videos/s | frames/s | GFLOP/step | GFLOP/s | "
             "% of matmul's GFLOP/s | first step s (trace + run) | peak RSS (MiB) |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['model']} | {r['params'] / 1e6:.2f} | {r['batch_size']} x {r['num_frames']} x "
            f"{r['image_size']}^2 | {r['s_per_step']:.4g} | {r['s_per_step_min']:.4g}-"
            f"{r['s_per_step_max']:.4g} | {r['cpu_s_per_step']:.4g} | "
            f"{_fmt(r['others_cores'], '.2f')} | {r['steps_per_s']:.4g} | {r['videos_per_s']:.4g} | "
            f"{r['frames_per_s']:.4g} | {_fmt(r['gflop_per_step'], '.4g')} | "
            f"{_fmt(r['gflop_per_s'], '.4g')} | {_fmt(_matmul_share(r), '.0f')} | "
            f"{_fmt(r['warmup_s'][0] if r['warmup_s'] else None, '.2f')} | "
            f"{r['peak_rss_mib']:.0f} |")
    if pipeline:
        p = pipeline
        lines += ["", f"Input pipeline alone (rjkeras.data.videos: {p['dataset']}"
                  f"{'/' + p['builder_config'] if p['builder_config'] else ''}, train split, "
                  f"{p['batches']} batches after {meta['pipeline_warmup']} warmup):", "",
                  "| batch x frames x size | s/batch | videos/s | frames/s | peak RSS (MiB) |",
                  "|---|---:|---:|---:|---:|",
                  f"| {p['batch_size']} x {p['num_frames']} x {p['image_size']}^2 | "
                  f"{p['s_per_batch']:.4g} | {p['videos_per_s']:.4g} | {p['frames_per_s']:.4g} | "
                  f"{p['peak_rss_mib']:.0f} |"]
    if commands:
        train_peak = {r["model"]: r["peak_rss_mib"] for r in results}
        lines += ["", "Peak memory of each command, in its own process (TensorFlow's ~0.6 GB included): "
                  "training (the timed steps), `rjkeras.evaluate` (a judge of random weights; "
                  f"{meta['eval_videos']} real and generated videos, {meta['eval_groups']} "
                  "disentanglement groups) and `rjkeras.export` on the model's saved work dir:", "",
                  "| model | train peak RSS (MiB) | evaluate peak RSS (MiB) | evaluate s | "
                  "evaluate metrics | export peak RSS (MiB) | export s | SavedModel (MiB) |",
                  "|---|---:|---:|---:|---|---:|---:|---:|"]
        for c in commands:
            e, x = c.get("evaluate") or {}, c.get("export") or {}
            lines.append(
                f"| {c['model']} | {_fmt(train_peak.get(c['model']), '.0f')} | "
                f"{_fmt(e.get('peak_rss_mib'), '.0f')} | {_fmt(e.get('seconds'), '.1f')} | "
                f"{', '.join(e.get('metrics', [])) or 'n/a'} | {_fmt(x.get('peak_rss_mib'), '.0f')} | "
                f"{_fmt(x.get('seconds'), '.1f')} | {_fmt(x.get('saved_model_mib'), '.1f')} |")
    return "\n".join(lines)


def _load() -> float:
    """The 1-minute load average (runnable processes): above the CPU count, jobs share cores."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def cpu_name() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), else what `platform` knows: hosts of one
    name differ by 2x and more, and ratios to PyTorch differ from one CPU model to another."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions() -> dict:
    """Library versions without importing TensorFlow into the parent."""
    from importlib import metadata

    def version(*names):
        for name in names:
            try:
                return metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        return "?"

    return {"tensorflow": version("tensorflow", "tensorflow-cpu"), "keras": version("keras")}


def main(argv):
    if FLAGS.worker:
        runtime.tune_allocator()  # as the commands do
        try:
            run_worker()
        except UserError as e:
            fail(e)
        return

    steps = FLAGS.steps if FLAGS.steps is not None else DEFAULT_STEPS[FLAGS.size]
    block = min(FLAGS.block if FLAGS.block is not None else DEFAULT_BLOCK[FLAGS.size], max(steps, 1))
    try:
        if steps < 1 or block < 1 or FLAGS.warmup < 1:
            raise UserError("--steps, --block and --warmup must be at least 1 (the first step traces)")
        if not FLAGS.models:
            raise UserError("--models is empty")
        unknown = [c for c in FLAGS.commands if c not in ("evaluate", "export")]
        if unknown:
            raise UserError(f"--commands: unknown command {unknown[0]!r}; choose from evaluate, export")
        stray = [m for m in FLAGS.command_models or () if m not in FLAGS.models]
        if stray:
            raise UserError(f"--command_models: {stray[0]!r} is not one of --models")
        configs = [resolve(model) for model in FLAGS.models]  # every config error before any work
    except UserError as e:
        fail(e)

    meta = {"size": FLAGS.size, "strategy": FLAGS.strategy, "steps": steps, "block": block,
            "warmup": FLAGS.warmup, "pipeline_warmup": FLAGS.pipeline_warmup,
            "cpus": os.cpu_count(), "machine": cpu_name(),
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "load_before": _load(), "eval_videos": FLAGS.eval_videos, "eval_groups": FLAGS.eval_groups,
            "eval_batch_size": FLAGS.eval_batch_size, **_versions()}
    results, failed, pipeline, commands = [], [], None, []
    command_models = set(FLAGS.models if FLAGS.command_models is None else FLAGS.command_models)
    with tempfile.TemporaryDirectory(prefix="rjkeras_benchmark_") as workdir:
        if FLAGS.pipeline_batches > 0:
            _say(f"[input pipeline] {configs[0].data.dataset} at batch {configs[0].train.batch_size} "
                 "(prepared first if needed)")
            pipeline = spawn("pipeline", configs[0], workdir, "pipeline", steps, block)
            if pipeline is None:
                failed.append("input pipeline")
        for config in configs:
            name = config.model_name
            measure = FLAGS.commands and name in command_models
            model_dir = os.path.join(workdir, f"{name}_workdir")
            judge_dir = os.path.join(workdir, f"judge_{config.data.image_size}")
            extra = (f"--worker_workdir={model_dir}", f"--worker_judge={judge_dir}") if measure else ()
            _say(f"[{name}] building ({FLAGS.size} size)")
            result = spawn("train", config, workdir, name, steps, block, extra)
            if result is None:
                failed.append(name)
                continue
            results.append(result)
            if measure:
                measured = measure_commands(config, model_dir, judge_dir, workdir)
                commands.append(measured)
                failed += [f"{name} {command}" for command in FLAGS.commands
                           if command in measured and measured[command] is None]

    meta["load_after"] = _load()
    print(markdown(results, pipeline, meta, commands))
    if FLAGS.json:
        with open(FLAGS.json, "w") as f:
            json.dump({"meta": meta, "models": results, "input_pipeline": pipeline, "commands": commands},
                      f, indent=2)
    if failed:
        print(f"error: failed: {', '.join(failed)} (see the messages above)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=parse_only_flags)
