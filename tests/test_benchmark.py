"""Smoke test of benchmarks/benchmark.py with tiny sizes: it runs and reports every model, and the
peak memory of training, evaluation and export."""

import json
import os
import re
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks",
                      "benchmark.py")


def _table_rows(text: str) -> dict[str, dict[str, str]]:
    """Markdown table rows keyed by their first cell, as {column: cell} (first table per header)."""
    rows, header = {}, None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if header is None:
            header = cells
        elif not re.fullmatch(r"-*:?-+:?", cells[0]):
            rows[cells[0]] = dict(zip(header, cells))
    return rows


def test_tiny_benchmark_reports_every_model(tmp_path):
    output = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, SCRIPT, "--models=rjvae,dsa,rjgan,image_gan", "--size=tiny",
         "--dataset_config=tiny", "--steps=2", "--warmup=1",
         # Peak memory of evaluate and export, on one model's saved work dir.
         "--command_models=rjgan", "--eval_videos=16", "--eval_groups=2",
         f"--data_dir={tmp_path / 'tfds'}", f"--json={output}"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    training, commands_table = result.stdout.split("Peak memory of each command")
    rows = _table_rows(training)
    for model in ("rjvae", "dsa", "rjgan", "image_gan"):
        assert model in rows, result.stdout
        assert float(rows[model]["steps/s"]) > 0
        assert float(rows[model]["peak RSS (MiB)"]) > 0
        assert rows[model]["batch x frames x size"] == "4 x 8 x 16^2"  # GANs: clips of 8

    report = json.loads(output.read_text())
    assert [r["model"] for r in report["models"]] == ["rjvae", "dsa", "rjgan", "image_gan"]
    for r in report["models"]:
        assert r["timed_steps"] == 2 and r["steps_per_s"] > 0 and r["params"] > 0
        # The step's FLOP rate beside the worker's matmul rate, as a share of it.
        assert r["gflop_per_step"] > 0 and r["matmul_gflop_per_s"] > 0
        share = float(rows[r["model"]]["% of matmul's GFLOP/s"])
        assert share == pytest.approx(100 * r["gflop_per_s"] / r["matmul_gflop_per_s"], abs=0.5)
    assert report["input_pipeline"]["videos_per_s"] > 0

    # Peak memory of training, evaluation and export: in the table and in the JSON.
    commands = _table_rows(commands_table)
    assert list(commands) == ["rjgan"]
    for column in ("train peak RSS (MiB)", "evaluate peak RSS (MiB)", "export peak RSS (MiB)",
                   "evaluate s", "export s"):
        assert float(commands["rjgan"][column]) > 0, commands
    [measured] = report["commands"]
    assert measured["model"] == "rjgan"
    for command in ("evaluate", "export"):
        assert measured[command]["returncode"] == 0 and measured[command]["peak_rss_mib"] > 0
    # The evaluation read real videos (judge_fd) and ran every metric of a video GAN but FVD.
    assert measured["evaluate"]["metrics"] == ["disentanglement", "inception_score", "judge_fd"]
    assert measured["export"]["saved_model_mib"] > 0


COMPARE = os.path.join(os.path.dirname(SCRIPT), "compare.py")


def test_compare_without_torch_times_rjkeras_and_says_why(tmp_path):
    output = tmp_path / "compare.json"
    result = subprocess.run(
        [sys.executable, COMPARE, "--settings=dsa_small", "--models=dsa", "--steps=2",
         "--torch_python=", f"--json={output}"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    row = _table_rows(result.stdout)["dsa_small"]
    assert row["model"] == "dsa" and float(row["rjkeras s/step"]) > 0 and row["ratio"] == "n/a"
    assert float(row["GFLOP/step"]) > 0 and float(row["rjkeras % of matmul"]) > 0
    assert row["PyTorch % of matmul"] == "n/a"
    assert "PyTorch side not measured: --torch_python is empty" in result.stdout
    # What the ratios were measured with: the libraries' versions and the CPU.
    measured_with = [line for line in result.stdout.splitlines() if line.startswith("Measured with")]
    assert len(measured_with) == 1 and "PyTorch" not in measured_with[0]
    assert re.fullmatch(r"Measured with TensorFlow \d+\.\d+\S*, Keras \d+\.\d+\S* on \d+ CPUs \(.+\)\.",
                        measured_with[0]), measured_with
    saved = json.loads(output.read_text())
    assert [r["model"] for r in saved["rows"]] == ["dsa"] and saved["torch_skipped"]
    assert saved["torch_version"] is None and saved["rjkeras_meta"]["tensorflow"].startswith("2.")


def test_the_table_names_the_torch_version_beside_tensorflow_s():
    """Ratios move with PyTorch's build (its CPU and CUDA wheels) as much as with ours."""
    compare = _compare_module()
    meta = {"tensorflow": "2.21.0", "keras": "3.15.1", "cpus": 2, "machine": "AMD EPYC"}
    line = compare.sitting(meta, "2.13.0+cpu")
    assert line == ("Measured with TensorFlow 2.21.0, Keras 3.15.1 and PyTorch 2.13.0+cpu on 2 CPUs "
                    "(AMD EPYC).")
    assert compare.markdown([], None, line).splitlines()[-1] == line


def test_compare_refuses_an_unknown_setting():
    result = subprocess.run([sys.executable, COMPARE, "--settings=sprites_huge"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: --settings: unknown sprites_huge")


def test_compare_times_each_gan_network_alone(tmp_path):
    output = tmp_path / "networks.json"
    result = subprocess.run([sys.executable, COMPARE, "--network_worker=sprites_small", f"--json={output}"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    seconds = json.loads(output.read_text())
    compare = _compare_module()
    assert set(seconds) == {"D_V", "D_I", "G_I", compare.EMPTY_CALL} and all(s > 0 for s in seconds.values())
    # TensorFlow's cost per call, beside the networks: a floor under each of them.
    assert seconds[compare.EMPTY_CALL] < min(seconds["D_V"], seconds["D_I"], seconds["G_I"])


def _compare_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("compare", COMPARE)
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    return compare


def test_compare_times_each_vae_network_alone_on_every_weight(monkeypatch):
    """The VAEs' networks alone (E, q(f), q(z_t), p(z_t), D), at a tiny DSA setting: each timed,
    each with a gradient for every weight (the Gaussian heads' two outputs both in the mean)."""
    import numpy as np
    import tensorflow as tf

    compare = _compare_module()
    # image size 16, batch 2, 3 frames, f 4, z 3, hidden 5, conv channels 4, features 6
    monkeypatch.setitem(compare.VAE_NETWORK_SHAPES, "dsa_tiny", (16, 2, 3, 4, 3, 5, 4, 6))
    nets = compare.vae_networks("dsa_tiny", np.random.default_rng(0))
    assert set(nets) == set(compare.network_inputs("dsa_tiny")) == {"E", "q(f)", "q(z_t)", "p(z_t)", "D"}
    for name, (net, x) in nets.items():
        x = tf.constant(x, tf.float32)
        net(x)
        grads = compare.weight_gradients(net)(x)
        assert len(grads) == len(net.trainable_variables) > 0, name
        assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads), name
    seconds = compare.time_networks("dsa_tiny", repeats=1, min_seconds=0)
    assert set(seconds) == set(nets) | {compare.EMPTY_CALL} and all(s > 0 for s in seconds.values())


def test_a_network_of_a_millisecond_is_timed_over_a_second_of_calls_not_five():
    """Five calls of q(z_t) (0.3-0.6 ms) gave ratios from 1.27 to 1.86 in one sitting: a fast
    call is repeated until `min_seconds` of calls; a slow one still five times."""
    import time

    compare = _compare_module()
    calls = []

    def call(seconds):
        calls.append(seconds)
        time.sleep(seconds)

    start = time.perf_counter()
    median = compare.time_calls(lambda: call(0.001), repeats=5, min_seconds=0.1)
    assert time.perf_counter() - start >= 0.1 and len(calls) > 2 + 5 and median >= 0.001
    calls.clear()
    compare.time_calls(lambda: call(0.03), repeats=5, min_seconds=0.1)
    assert len(calls) == 2 + 5  # two warm-up calls, then five over 0.15 s


def test_the_networks_table_gives_the_call_floor_and_short_times_to_two_digits():
    compare = _compare_module()
    rows = [{"setting": "dsa_small", "network": "q(z_t)", "input": "16x8x256 features", "rjkeras_s": 0.00057,
             "torch_s": 0.00032},
            {"setting": "dsa_small", "network": "E", "input": "128x32x32", "rjkeras_s": 0.0602, "torch_s": 0.0952}]
    table = compare.networks_markdown(rows, [0.00024, 0.00023])
    assert [c.strip() for c in table.splitlines()[2].strip("|").split("|")][3:] == ["0.57", "0.32", "1.78"]
    assert [c.strip() for c in table.splitlines()[3].strip("|").split("|")][3:] == ["60", "95", "0.63"]
    assert "A tf.function that only returns its input took 0.23-0.24 ms a call" in table
    assert "took" not in compare.networks_markdown(rows)



def test_rounds_alternate_the_sides_and_give_each_rounds_ratio(monkeypatch):
    """--rounds=3: rjkeras, PyTorch, rjkeras, ... so that a slow spell of a shared host (it
    swung a ratio by 0.1-0.25 from one run to the next) falls on both sides; the row gives each
    side's median and the cell every round's ratio, lowest to highest."""
    compare = _compare_module()
    order, ours, theirs = [], iter([0.2, 0.5, 0.3]), iter([0.25, 0.5, 0.5])
    rates = iter([100.0, 300.0, 200.0, None])

    def run_rjkeras(setting, models, scratch):
        order.append("rjkeras")
        rate = next(rates)  # the worker's matmul rate, sampled anew each round
        return {"mocogan": {"s_per_step": next(ours), "peak_rss_mib": 1000.0, "gflop_per_step": 30.0,
                            "matmul_gflop_per_s": rate}}, {"tensorflow": "2.x"}

    def run_reference(python, setting, scratch, networks=False):
        order.append("torch+networks" if networks else "torch")
        return {"median_s": next(theirs), "peak_rss_mib": 400.0}

    monkeypatch.setattr(compare, "run_rjkeras", run_rjkeras)
    monkeypatch.setattr(compare, "run_reference", run_reference)
    monkeypatch.setattr(compare, "_say", lambda message: None)
    rows, meta, _ = compare.measure_setting("sprites_small", ["mocogan"], "python", "/tmp", rounds=3,
                                            networks=True)
    # The reference times its networks alone once, in the last round.
    assert order == ["rjkeras", "torch"] * 2 + ["rjkeras", "torch+networks"] and meta == {"tensorflow": "2.x"}
    [row] = rows
    assert row["rjkeras_s"] == 0.3 and row["torch_s"] == 0.5  # the medians
    assert row["ratios"] == pytest.approx([0.8, 1.0, 0.6])
    assert row["matmul_gflop_per_s"] == 200.0 and row["gflop_per_step"] == 30.0
    ratio_cell = compare.markdown(rows, None).splitlines()[2].split("|")[5].strip()
    assert ratio_cell == "0.60 (0.60-1.00)"
    # Without torch, rjkeras alone, and one round gives one ratio, as before.
    order.clear()
    ours = iter([0.2])
    rows, _, theirs_last = compare.measure_setting("sprites_small", ["mocogan"], None, "/tmp")
    assert order == ["rjkeras"] and "torch_s" not in rows[0] and "ratios" not in rows[0] and theirs_last is None


TORCH_PYTHON = os.path.expanduser("~/torchenv/bin/python")
REFERENCE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(SCRIPT))), "shared", "bench",
                         "pytorch_reference.py")


def test_the_torch_side_times_the_reference_vae_modules(tmp_path):
    """Where torch and the shared reference are at hand (a developer's machine, not CI): the
    driver finds the reference's own modules and times each network at its input shape."""
    if not (os.path.exists(TORCH_PYTHON) and os.path.exists(REFERENCE)):
        pytest.skip(f"needs {TORCH_PYTHON} with torch and {REFERENCE}")
    output = tmp_path / "torch.json"
    result = subprocess.run([TORCH_PYTHON, os.path.join(os.path.dirname(SCRIPT), "torch_vae_networks.py"),
                             f"--reference={REFERENCE}", "--setting=dsa_small", f"--json={output}"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    times = json.loads(output.read_text())
    assert {k[:-len("_fwd_bwd_s")] for k in times if k.endswith("_fwd_bwd_s")} == {
        "E", "q(f)", "q(z_t)", "p(z_t)", "D"}
    assert times["E_input"] == [128, 3, 32, 32] and times["D_input"] == [128, 64]


def test_a_network_alone_is_timed_on_its_weights_gradients_as_the_reference_times_it():
    """`net(x).mean().backward()` in the reference computes every weight's gradient and not the
    input's; an earlier timing returned the input's alone, so that the tf.function pruned the
    weights' (D_V at 64x64 then read 643 ms where its weights' gradients take 963)."""
    import numpy as np
    import tensorflow as tf

    from rjkeras.networks import gan

    compare = _compare_module()
    net = gan.image_discriminator(16, ndf=4)
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 3)), tf.float32)
    gradients = compare.weight_gradients(net)
    grads = gradients(x)
    assert len(grads) == len(net.trainable_variables)
    assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)


def test_the_share_of_the_matmul_rate_is_the_steps_flop_rate_over_it():
    """30 GFLOP in 0.2 s on a 300 GFLOP/s matmul: 50%; PyTorch's 0.3 s on the same work: 33%."""
    compare = _compare_module()
    row = {"setting": "s", "model": "m", "rjkeras_s": 0.2, "rjkeras_peak_mib": 1000.0, "torch_s": 0.3,
           "torch_peak_mib": 500.0, "gflop_per_step": 30.0, "matmul_gflop_per_s": 300.0}
    assert compare.matmul_share(row, 0.2) == pytest.approx(50.0)
    cells = [c.strip() for c in compare.markdown([row], None).splitlines()[2].strip("|").split("|")]
    assert cells[-3:] == ["30", "50", "33"]
    assert compare.matmul_share({**row, "gflop_per_step": None}, 0.2) is None


def test_the_training_peak_is_read_before_the_flop_count(monkeypatch):
    """The FLOP count traces the step once more after the timed steps; its graph and profile
    raised the process's high-water mark by 35 MiB at 64x64, which the table gave as training's."""
    import importlib.util

    from rjkeras import config as config_lib

    spec = importlib.util.spec_from_file_location("benchmark", SCRIPT)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    events = []

    def peak_rss_mib():
        events.append("peak")
        return float(len(events))  # which call it was

    def flop_count(*args):
        events.append("flops")
        return 1e9

    monkeypatch.setattr(benchmark, "peak_rss_mib", peak_rss_mib)
    monkeypatch.setattr(benchmark, "_train_step_flops", flop_count)
    monkeypatch.setattr(benchmark, "matmul_gflop_per_s", lambda: 100.0)
    config = config_lib.resolve("rjgan", "synthetic_sprites", size="tiny")
    result = benchmark.train_worker(config, steps=1, warmup=1, block=1, strategy_name="none",
                                    count_flops=True)
    assert events == ["peak", "flops"] and result["peak_rss_mib"] == 1.0
    assert result["gflop_per_step"] == 1.0
