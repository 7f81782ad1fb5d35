"""rjkeras' train step beside the PyTorch reference's iteration, per preset shape, in one run.

    python benchmarks/compare.py                                   # every setting
    python benchmarks/compare.py --settings=sprites_small,dsa_small --models=mocogan,rjgan
    python benchmarks/compare.py --torch_python=~/torchenv/bin/python --json=compare.json
    python benchmarks/compare.py --settings=sprites_small,dsa_small --rounds=3   # alternated 3 times

The PyTorch side is the shared reference script (`--reference`, by default
`../shared/bench/pytorch_reference.py` beside the repository), run by a Python that has torch
(`--torch_python`; torch is never a dependency of rjkeras). Without one, only rjkeras' column is
measured and the table says why. Both sides time the same architectures and batches on
in-memory random inputs; rjkeras' side is `benchmarks/benchmark.py` (one subprocess per model,
its median s/step and peak resident memory). Settings, as the reference names them:

  mocogan_i      MoCoGAN's official defaults: 64x64, 16 frames, image/video batch 10/3, 6 categories
  mocogan_ii     the 16-frame presets: 64x64, 16 frames, 16/16
  sprites_paper  the paper-size Sprites presets: 64x64, 8 frames, 16/16
  sprites_small  --size=small: 32x32, 8 frames, ngf/ndf 32, 16/8
  dsa            DSA at the paper's size: batch 25, 8 frames, 64x64
  dsa_small      the VAEs' --size=small: batch 16, 8 frames, 32x32

The GAN settings time MoCoGAN, RJGAN and RMoCoGAN (the same networks, other latents; mocogan_i
MoCoGAN alone, whose categories the others lack); the DSA settings DSA and RJVAE. "ratio" is
rjkeras' s/step over PyTorch's s/iteration (below 1: faster). "% of matmul": the step's GFLOP
(TensorFlow's count of rjkeras' step; the reference runs the same layers) per second of each
side, over TensorFlow's float32 rate on a 2048x2048 matmul in rjkeras' worker: how much of the
CPU each framework's step uses, and so how far from the ceiling a ratio stands.

`--networks` also times each setting's networks alone, forward + backward of their output's
mean inside one `tf.function` (the weights' gradients, as the reference's), on the reference's
inputs. GAN settings: D_V on the video batch, D_I and G_I on image batch x clip length frames
(latents for G_I). DSA settings: the frame encoder E on batch x frames frames, the bi-LSTM
q(f | x_1:T) and the frame posterior q(z_t | x_t) on those frames' features, the prior LSTM
p(z_t | z_<t) on the frame latents, the decoder D on batch x frames latents [f, z_t]; the
PyTorch side of these is `torch_vae_networks.py`, which takes the reference's own modules.
rjkeras' side takes the median of at least five calls and a second of calls, and the line under
the networks' table gives an empty tf.function's cost per call: the floor under a network of a
millisecond (q(z_t) at dsa_small), paid once by a training step.
`--rounds=N` runs each side N times per setting, alternated (rjkeras, PyTorch, rjkeras, ...):
the table gives each side's median and, after the ratio of those, the lowest and highest of the
rounds' own ratios. On a shared 2-core host one run's ratio swings by 0.1-0.25.
Compare figures from one run only: hosts differ by 2x from one day to the next.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app, flags

from rjkeras.cli import parse_only_flags
from rjkeras.errors import UserError, fail

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REFERENCE = os.path.join(os.path.dirname(os.path.dirname(HERE)), "shared", "bench",
                                 "pytorch_reference.py")
GANS, VAES = ("mocogan", "rjgan", "rmocogan"), ("dsa", "rjvae")
# Each setting: the models it times and `benchmark.py` flags that give the reference's shapes.
SETTINGS = {
    "mocogan_i": (("mocogan",), ["--size=paper", "--batch_size=3", "--set=model.image_batch_size=10",
                         "--set=model.category_dim=6"]),
    "mocogan_ii": (GANS, ["--size=paper"]),  # benchmark.py's paper GANs: 16 frames, 16/16
    "sprites_paper": (GANS, ["--size=paper", "--set=model.clip_length=8"]),
    "sprites_small": (GANS, ["--size=small"]),
    "dsa": (VAES, ["--size=paper"]),
    "dsa_small": (VAES, ["--size=small"]),
}

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The script's flags; defined only when it runs, so that importing it defines none."""
    flags.DEFINE_list("settings", list(SETTINGS), "Settings to time (the reference's names).")
    flags.DEFINE_list("models", None, "rjkeras models to time per setting; default: the setting's family.")
    flags.DEFINE_string("reference", DEFAULT_REFERENCE, "The PyTorch reference script.")
    flags.DEFINE_string("torch_python", os.path.expanduser("~/torchenv/bin/python"),
                        "A Python interpreter that can import torch; empty: skip the PyTorch side.")
    flags.DEFINE_integer("steps", None, "Timed steps per model (benchmark.py's default if unset).")
    flags.DEFINE_integer("iters", 5, "Timed iterations of the PyTorch reference.")
    flags.DEFINE_integer("rounds", 1, "Runs of each side per setting, alternated (rjkeras, PyTorch, "
                         "rjkeras, ...): the table gives each side's median and the rounds' ratios.", lower_bound=1)
    flags.DEFINE_string("json", None, "Also write the results to this JSON file.")
    flags.DEFINE_bool("networks", False, "Also time each network alone at each setting's shapes "
                      "(D_V, D_I, G_I; the VAEs' E, q(f), q(z_t), p(z_t), D).")
    flags.DEFINE_string("network_worker", None, "Internal: time one setting's networks in this process.")


# The reference's GAN settings: image size, ngf = ndf, image batch, video batch, clip length,
# categories (its GAN table; D_V's temporal padding follows from the clip length here).
NETWORK_SHAPES = {"mocogan_i": (64, 64, 10, 3, 16, 6), "mocogan_ii": (64, 64, 16, 16, 16, 0),
                  "sprites_paper": (64, 64, 16, 16, 8, 0), "sprites_small": (32, 32, 16, 8, 8, 0)}
# The reference's VAE settings: image size, batch, frames, f, z, hidden, conv channels, features.
VAE_NETWORK_SHAPES = {"dsa": (64, 25, 8, 256, 32, 512, 256, 2048),
                      "dsa_small": (32, 16, 8, 32, 32, 128, 32, 256)}
TORCH_VAE_NETWORKS = os.path.join(HERE, "torch_vae_networks.py")


def has_networks(setting: str) -> bool:
    return setting in NETWORK_SHAPES or setting in VAE_NETWORK_SHAPES


def network_inputs(setting: str) -> dict[str, str]:
    """Each network's input at the setting's shapes, as the tables print it."""
    if setting in VAE_NETWORK_SHAPES:
        size, batch, frames, f, z, _, _, features = VAE_NETWORK_SHAPES[setting]
        return {"E": f"{batch * frames}x{size}x{size}", "q(f)": f"{batch}x{frames}x{features} features",
                "q(z_t)": f"{batch}x{frames}x{features} features", "p(z_t)": f"{batch}x{frames}x{z} latents",
                "D": f"{batch * frames} latents of {f + z}"}
    size, _, image_batch, video_batch, length, _ = NETWORK_SHAPES[setting]
    return {"D_V": f"{video_batch}x{length}x{size}x{size}", "D_I": f"{image_batch * length}x{size}x{size}",
            "G_I": f"{image_batch * length} latents"}


def _say(message: str) -> None:
    print(message, flush=True)


def torch_python() -> tuple[str | None, str | None, str | None]:
    """(the interpreter that runs the PyTorch side, its torch version, None), or (None, None,
    why it cannot run). The version goes under the table: on one host, torch 2.13's CPU wheel
    and 2.14's CUDA one took 0.20 and 0.29-0.39 s for the same sprites_small iteration."""
    def cannot(why):
        return None, None, why

    if not FLAGS.torch_python:
        return cannot("--torch_python is empty")
    python = shutil.which(os.path.expanduser(FLAGS.torch_python))
    if not python:
        return cannot(f"--torch_python={FLAGS.torch_python} is not an interpreter")
    if not os.path.exists(FLAGS.reference):
        return cannot(f"--reference={FLAGS.reference} does not exist")
    found = subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                           capture_output=True, text=True)
    if found.returncode:
        return cannot(f"{python} cannot import torch (python3 -m venv ~/torchenv && "
                      "~/torchenv/bin/pip install torch numpy)")
    return python, found.stdout.split()[-1], None


def run_reference(python: str, setting: str, scratch: str, networks: bool = False) -> dict | None:
    """The reference's iteration at one setting, and with `networks` its networks alone too."""
    out = os.path.join(scratch, f"torch_{setting}.json")
    command = [python, FLAGS.reference,
               f"--settings={setting}", f"--iters={FLAGS.iters}", f"--json={out}"]
    command += ["--networks"] if networks and setting in NETWORK_SHAPES else []
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode or not os.path.exists(out):
        _say(f"  PyTorch {setting}: failed\n{result.stderr[-2000:]}")
        return None
    with open(out) as f:
        rows = json.load(f)
    if rows and networks and setting in VAE_NETWORK_SHAPES:
        rows[0].update(run_reference_vae_networks(python, setting, scratch))
    return rows[0] if rows else None


def run_reference_vae_networks(python: str, setting: str, scratch: str) -> dict:
    """The reference's VAE networks alone (it times only the GANs'), by `torch_vae_networks.py`."""
    out = os.path.join(scratch, f"torch_networks_{setting}.json")
    result = subprocess.run([python, TORCH_VAE_NETWORKS, f"--reference={FLAGS.reference}",
                             f"--setting={setting}", f"--json={out}"], capture_output=True, text=True)
    if result.returncode or not os.path.exists(out):
        _say(f"  PyTorch networks {setting}: failed\n{result.stderr[-2000:]}")
        return {}
    with open(out) as f:
        return json.load(f)


def run_rjkeras(setting: str, models: list[str], scratch: str) -> tuple[dict[str, dict], dict]:
    """({model: benchmark.py's row}, benchmark.py's meta: versions, CPU) of one setting."""
    out = os.path.join(scratch, f"rjkeras_{setting}.json")
    command = [sys.executable, os.path.join(HERE, "benchmark.py"), f"--models={','.join(models)}",
               "--pipeline_batches=0", "--commands=", f"--json={out}",
               *SETTINGS[setting][1]]
    command += [f"--steps={FLAGS.steps}"] if FLAGS.steps else []
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:  # its table still holds the models that ran
        _say(f"  rjkeras {setting}: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'failed'}")
    if not os.path.exists(out):
        _say(f"  rjkeras {setting}: no results\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
        return {}, {}
    with open(out) as f:
        saved = json.load(f)
    return {row["model"]: row for row in saved["models"]}, saved["meta"]


def measure_setting(setting: str, models: list[str], python: str | None, scratch: str,
                    rounds: int = 1, networks: bool = False) -> tuple[list[dict], dict, dict | None]:
    """One setting's rows, benchmark.py's meta and the reference's last result: rjkeras' models
    and the reference (when `python` has torch) each run `rounds` times, alternated, so that a
    slow spell of a shared host falls on both sides. A row gives each side's median over the
    rounds (s/step, peak) and, over two rounds or more, every round's ratio ("ratios").
    `networks`: the reference also times its networks alone, in the last round only (each
    network already takes the median of its own calls)."""
    ours_rounds, theirs_rounds, meta = [], [], {}
    for i in range(rounds):
        label = f" (round {i + 1}/{rounds})" if rounds > 1 else ""
        _say(f"[{setting}] rjkeras{label}: {', '.join(models)}")
        ours, round_meta = run_rjkeras(setting, models, scratch)
        ours_rounds.append(ours)
        meta = round_meta or meta
        if python:
            _say(f"[{setting}] PyTorch reference{label}")
            theirs_rounds.append(run_reference(python, setting, scratch, networks and i == rounds - 1))
    theirs_ok = [t for t in theirs_rounds if t]
    rows = []
    for model in models:
        ours = [o[model] for o in ours_rounds if model in o]
        if not ours:
            continue
        row = {"setting": setting, "model": model,
               "rjkeras_s": statistics.median(o["s_per_step"] for o in ours),
               "rjkeras_peak_mib": statistics.median(o["peak_rss_mib"] for o in ours),
               "gflop_per_step": ours[-1].get("gflop_per_step"),  # the same graph every round
               "matmul_gflop_per_s": _median_or_none(o.get("matmul_gflop_per_s") for o in ours)}
        if theirs_ok:
            row.update(torch_s=statistics.median(t["median_s"] for t in theirs_ok),
                       torch_peak_mib=statistics.median(t["peak_rss_mib"] for t in theirs_ok))
        if rounds > 1:
            row["ratios"] = [o[model]["s_per_step"] / t["median_s"]
                             for o, t in zip(ours_rounds, theirs_rounds) if model in o and t]
        rows.append(row)
        _say(f"[{setting}] {model}: rjkeras {row['rjkeras_s']:.3f} s/step"
             + (f", PyTorch {row['torch_s']:.3f} s/it" if theirs_ok else ""))
    return rows, meta, theirs_ok[-1] if theirs_ok else None


def _median_or_none(values):
    values = [v for v in values if v]
    return statistics.median(values) if values else None


def weight_gradients(net):
    """A `tf.function` x -> the gradients of mean(net(x)) for net's weights, as the reference's
    `net(x).mean().backward()`: not the input's (which the first layer would compute in vain),
    and all of them returned, since a tf.function prunes whatever its outputs do not need."""
    import tensorflow as tf

    @tf.function
    def gradients(x):
        with tf.GradientTape() as tape:
            # A Gaussian head's (loc, scale): the mean over both, as the reference's one output.
            outputs = tf.nest.flatten(net(x, training=True))
            y = tf.add_n([tf.reduce_mean(o) for o in outputs]) / len(outputs)
        return tape.gradient(y, net.trainable_variables)

    return gradients


def time_calls(call, repeats: int = 5, min_seconds: float = 1.0) -> float:
    """Median seconds of `call()` after two warm-up calls (the first traces), over at least
    `repeats` calls and `min_seconds` of them: five calls of a 1 ms network are too few for a
    ratio that holds from one run to the next."""
    call(), call()
    times = []
    while len(times) < repeats or (sum(times) < min_seconds and len(times) < 10000):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# The key of a worker's JSON that holds the call floor, beside the networks' names.
EMPTY_CALL = "empty tf.function"


def time_networks(setting: str, repeats: int = 5, min_seconds: float = 1.0) -> dict[str, float]:
    """Median seconds of forward + backward of each network alone at the setting's shapes, and
    under EMPTY_CALL those of a tf.function that returns its input: TensorFlow's cost per call,
    which a network of a millisecond or two pays in full but a training step pays once."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    nets = vae_networks(setting, rng) if setting in VAE_NETWORK_SHAPES else gan_networks(setting, rng)
    seconds = {}
    for name, (net, x) in nets.items():
        x = tf.constant(x, tf.float32)
        net(x)  # builds a layer's weights outside the tf.function
        gradients = weight_gradients(net)
        seconds[name] = time_calls(lambda: [g.numpy() for g in gradients(x)], repeats, min_seconds)
    identity, one = tf.function(lambda x: x), tf.constant([1.0])
    seconds[EMPTY_CALL] = time_calls(lambda: identity(one).numpy(), repeats, min_seconds)
    return seconds


def gan_networks(setting: str, rng) -> dict:
    """name -> (network, input) at a GAN setting's shapes."""
    from rjkeras.networks import gan

    size, width, image_batch, video_batch, length, categories = NETWORK_SHAPES[setting]
    latent_dim = 60 + categories  # the reference's: z_C 50 + z_M 10 (+ the one-hot z_A)
    return {"D_V": (gan.video_discriminator(length, size, ndf=width, num_categories=categories),
                    rng.uniform(-1, 1, (video_batch, length, size, size, 3))),
            "D_I": (gan.image_discriminator(size, ndf=width),
                    rng.uniform(-1, 1, (image_batch * length, size, size, 3))),
            "G_I": (gan.image_generator(latent_dim, size, ngf=width),
                    rng.standard_normal((image_batch * length, latent_dim)))}


def vae_networks(setting: str, rng) -> dict:
    """name -> (network, input) at a DSA setting's shapes: DSA's networks (RJVAE's are the same
    but for its decoder's input, mu + delta_t of the summary's size, where DSA's is [f, z_t])."""
    from rjkeras.networks import vae

    size, batch, frames, f, z, hidden, conv, features = VAE_NETWORK_SHAPES[setting]
    feature_input = rng.standard_normal((batch, frames, features))
    return {"E": (vae.frame_encoder(size, conv, features), rng.uniform(-1, 1, (batch * frames, size, size, 3))),
            "q(f)": (vae.SequencePosterior(f, hidden), feature_input),
            "q(z_t)": (vae.FramePosterior(z, hidden), feature_input),
            "p(z_t)": (vae.LSTMPrior(z, hidden), rng.standard_normal((batch, frames, z))),
            "D": (vae.frame_decoder(f + z, size, conv, features), rng.standard_normal((batch * frames, f + z)))}


def run_rjkeras_networks(setting: str, scratch: str) -> dict[str, float]:
    out = os.path.join(scratch, f"rjkeras_networks_{setting}.json")
    result = subprocess.run([sys.executable, os.path.abspath(__file__), f"--network_worker={setting}",
                             f"--json={out}"], capture_output=True, text=True)
    if result.returncode or not os.path.exists(out):
        _say(f"  rjkeras networks {setting}: failed\n{result.stderr[-2000:]}")
        return {}
    with open(out) as f:
        return json.load(f)


def networks_markdown(rows: list[dict], empty_calls: list[float] = ()) -> str:
    """The networks-alone table; `empty_calls`: an empty tf.function's seconds a call, one per worker."""
    lines = ["| setting | network | input | rjkeras ms | PyTorch ms | ratio |", "|---|---|---|---:|---:|---:|"]
    for r in rows:
        torch_s = r.get("torch_s")
        lines.append(f"| {r['setting']} | {r['network']} | {r['input']} | {_ms(r['rjkeras_s'])} | "
                     + (f"{_ms(torch_s)} | {r['rjkeras_s'] / torch_s:.2f} |" if torch_s else "n/a | n/a |"))
    if empty_calls:
        low, high = _ms(min(empty_calls)), _ms(max(empty_calls))
        lines.append(f"\nA tf.function that only returns its input took {low if low == high else f'{low}-{high}'}"
                     " ms a call in rjkeras' workers: a network within a few times of that is timed mostly on "
                     "TensorFlow's cost per call, which a training step pays once, not once per network.")
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    """Milliseconds with two significant digits below 10 ms (a q(z_t) takes well under one)."""
    ms = 1000 * seconds
    return f"{ms:.0f}" if ms >= 10 else f"{ms:.2g}"


def network_rows(setting: str, ours: dict[str, float], theirs: dict | None) -> list[dict]:
    inputs = network_inputs(setting)
    rows = []
    for name in inputs:
        if name in ours:
            row = {"setting": setting, "network": name, "input": inputs[name], "rjkeras_s": ours[name]}
            if theirs and f"{name}_fwd_bwd_s" in theirs:
                row["torch_s"] = theirs[f"{name}_fwd_bwd_s"]
            rows.append(row)
    return rows


def matmul_share(row: dict, seconds: float | None) -> float | None:
    """Percent of the worker's float32 matmul rate that a step of `seconds` reaches on the step's
    GFLOP (TensorFlow's count of rjkeras' step; the reference runs the same layers)."""
    if not seconds or not row.get("gflop_per_step") or not row.get("matmul_gflop_per_s"):
        return None
    return 100 * row["gflop_per_step"] / seconds / row["matmul_gflop_per_s"]


def sitting(meta: dict, torch_version: str | None) -> str:
    """What one run's ratios were measured with (they move with either library and the CPU)."""
    return (f"Measured with TensorFlow {meta.get('tensorflow', '?')}, Keras {meta.get('keras', '?')}"
            + (f" and PyTorch {torch_version}" if torch_version else "")
            + f" on {meta.get('cpus', '?')} CPUs ({meta.get('machine', '?')}).")


def markdown(rows: list[dict], why_no_torch: str | None, measured_with: str | None = None) -> str:
    lines = ["| setting | model | rjkeras s/step | PyTorch s/it | ratio | rjkeras peak MiB | "
             "PyTorch peak MiB | GFLOP/step | rjkeras % of matmul | PyTorch % of matmul |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def fmt(value, spec):
        return "n/a" if value is None else format(value, spec)

    for r in rows:
        torch_s, torch_mib = r.get("torch_s"), r.get("torch_peak_mib")
        ratio = f"{r['rjkeras_s'] / torch_s:.2f}" if torch_s else "n/a"
        if len(r.get("ratios", ())) > 1:  # the rounds' own ratios, lowest to highest
            ratio += f" ({min(r['ratios']):.2f}-{max(r['ratios']):.2f})"
        lines.append(f"| {r['setting']} | {r['model']} | {r['rjkeras_s']:.3f} | {fmt(torch_s, '.3f')} | "
                     f"{ratio} | {r['rjkeras_peak_mib']:.0f} | {fmt(torch_mib, '.0f')} | "
                     f"{fmt(r.get('gflop_per_step'), '.3g')} | "
                     f"{fmt(matmul_share(r, r['rjkeras_s']), '.0f')} | {fmt(matmul_share(r, torch_s), '.0f')} |")
    if any(r.get("matmul_gflop_per_s") for r in rows):
        lines.append("\n% of matmul: the step's GFLOP per second over TensorFlow's float32 rate on a "
                     "2048x2048 matmul in the same worker (about the most this CPU gives), for "
                     "rjkeras' step time and for PyTorch's on the same GFLOP.")
    if why_no_torch:
        lines.append(f"\nPyTorch side not measured: {why_no_torch}.")
    if measured_with:
        lines.append(f"\n{measured_with}")
    return "\n".join(lines)


def main(argv):
    del argv
    if FLAGS.network_worker:
        seconds = time_networks(FLAGS.network_worker)
        with open(FLAGS.json, "w") as f:
            json.dump(seconds, f)
        return
    try:
        unknown = [s for s in FLAGS.settings if s not in SETTINGS]
        if unknown:
            raise UserError(f"--settings: unknown {', '.join(unknown)}; choose from {', '.join(SETTINGS)}")
        python, torch_version, why_no_torch = torch_python()
        meta = {}
        if why_no_torch:
            _say(f"PyTorch side skipped: {why_no_torch}")
        rows, net_rows, empty_calls = [], [], []
        with tempfile.TemporaryDirectory(prefix="rjkeras_compare_") as scratch:
            for setting in FLAGS.settings:
                family = SETTINGS[setting][0]
                models = [m for m in (FLAGS.models or family) if m in family]
                if not models:
                    continue
                setting_rows, setting_meta, theirs = measure_setting(
                    setting, models, python, scratch, FLAGS.rounds, FLAGS.networks and has_networks(setting))
                meta = setting_meta or meta
                rows += setting_rows
                if FLAGS.networks and has_networks(setting):
                    _say(f"[{setting}] rjkeras networks alone")
                    ours_alone = run_rjkeras_networks(setting, scratch)
                    empty_calls.append(ours_alone.get(EMPTY_CALL))
                    net_rows += network_rows(setting, ours_alone, theirs)
    except UserError as e:
        fail(e)
    measured_with = sitting(meta, torch_version)
    _say("\n" + markdown(rows, why_no_torch, measured_with))
    empty_calls = [s for s in empty_calls if s]
    if net_rows:
        _say("\nEach network alone (forward + backward):\n\n" + networks_markdown(net_rows, empty_calls))
    if FLAGS.json:
        with open(FLAGS.json, "w") as f:
            json.dump({"rows": rows, "networks": net_rows, "empty_call_s": empty_calls,
                       "torch_skipped": why_no_torch,
                       "torch_version": torch_version, "rjkeras_meta": meta}, f, indent=1)


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=parse_only_flags)
