"""benchmarks/reproduce.py's statistics and report, on made-up reports with known answers (the
reproduction itself trains 24 models: it is not run in the test suite)."""

import importlib.util
import math
import os
import subprocess
import sys
import types

import pytest

_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks", "reproduce.py")
_spec = importlib.util.spec_from_file_location("reproduce", _PATH)
reproduce = importlib.util.module_from_spec(_spec)
sys.modules["reproduce"] = reproduce  # its dataclasses look their module up
_spec.loader.exec_module(reproduce)


def test_t_interval_of_the_mean():
    mean, half = reproduce.interval([1.0, 2.0, 3.0])  # sd 1, n 3, t(2) = 4.303
    assert mean == 2.0 and half == pytest.approx(4.303 / math.sqrt(3))
    assert reproduce.interval([5.0]) == (5.0, math.inf)
    # Between tabulated degrees of freedom the smaller one's (wider) quantile is used.
    assert reproduce.t975(3.7) == reproduce.t975(3) > reproduce.t975(4)
    assert reproduce.t975(0.5) == math.inf and reproduce.t975(10_000) == 1.960


def test_welch_interval_of_a_difference():
    # var/n = 1/3 on both sides: Welch's dof = (2/3)^2 / (2 (1/3)^2 / 2) = 4, t(4) = 2.776.
    diff, half = reproduce.difference([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert diff == -3.0 and half == pytest.approx(2.776 * math.sqrt(2 / 3))
    # Unequal spreads: dof falls towards the noisier side's n - 1 and the interval widens.
    _, wide = reproduce.difference([1.0, 2.0, 3.0], [0.0, 10.0, 20.0])
    va, vb = 1 / 3, 100 / 3
    dof = (va + vb) ** 2 / (va ** 2 / 2 + vb ** 2 / 2)
    assert 2 < dof < 3 and wide == pytest.approx(reproduce.t975(2) * math.sqrt(va + vb))


def test_verdicts():
    assert reproduce.verdict(-3.0, 2.0, "<") == "holds"
    assert reproduce.verdict(3.0, 2.0, "<") == "reversed"
    assert reproduce.verdict(-1.0, 2.0, "<") == "not resolved"
    assert reproduce.verdict(3.0, 2.0, ">") == "holds"
    assert reproduce.verdict(-3.0, 2.0, ">") == "reversed"
    assert reproduce.verdict(-3.0, math.inf, "<") == "not resolved"


def test_sampling_spread_is_pooled_over_runs():
    # sds 1 and 7 pooled: sqrt((1 + 49) / 2) = 5; 2 runs x (4 - 1) dof = 6: t(6) = 2.447.
    assert reproduce.sampling_half_width([1.0, 7.0], 4) == pytest.approx(2.447 * 5 / 2)
    assert reproduce.sampling_half_width([1.0], 1) == math.inf


def _fd_report(value, step=100):
    sets = [value - 0.1, value, value + 0.1]
    return {"source": {"step": step},
            "metrics": {"judge_fd": {"value": value, "repeats": sets, "std": 0.1}}}


def _is_report(mean):
    scores = [mean - 0.05, mean + 0.05]
    return {"source": {"step": 100},
            "metrics": {"inception_score": {"label": "action", "mean": mean, "std": 0.05,
                                            "per_label": {"action": {"scores": scores}}}}}


def test_the_report_states_each_direction_with_its_verdict():
    fd = {"mocogan": [10.0, 11.0, 12.0], "rmocogan": [9.0, 10.0, 11.5], "rjgan": [5.0, 5.5, 6.0],
          "rjgan_pretrained": [2.0, 2.2, 2.4], "rjgan_mixture": [20.0, 21.0, 22.0],
          "dsa": [3.0, 3.1, 3.2], "rjvae": [2.0, 2.1, 2.2]}
    reports = {name: [_fd_report(v) for v in values] for name, values in fd.items()}
    reports["image_gan"] = [_is_report(m) for m in (2.0, 2.1, 2.2)]
    for report, mean in zip(reports["rjgan"], (3.0, 3.1, 3.2)):
        report["metrics"].update(_is_report(mean)["metrics"])
    args = types.SimpleNamespace(seeds=[0, 1, 2], steps=100, size="tiny", pretrain_steps=100,
                                 judge_steps=10, judge_ndf=8, eval_repeats=3, is_batches=2,
                                 is_batch_size=8, eval_seed=0, jobs=2, gan_set=["model.instance_noise=0.1"],
                                 runs=list(reproduce.RUNS))
    runner = types.SimpleNamespace(phases={"train": 600.0, "judge": 60.0, "evaluate": 120.0}, total=30.0)
    judge = {"classes": {"action": ["a", "b", "c"]}}
    text = reproduce.tables(args, "python benchmarks/reproduce.py", reports, judge, 16, "tiny", 64, runner)
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    assert rows["RJGAN < MoCoGAN"].rstrip(" |").endswith("holds | all (p = 0.05)")
    assert rows["RMoCoGAN < MoCoGAN"].rstrip(" |").endswith("not resolved | 6 of 9 pairs")
    assert rows["RJGAN on the 1:1 mixture < MoCoGAN on all videos"].rstrip(" |").endswith("reversed | none")
    assert rows["IS of RJGAN's G_I(mu) > image baseline"].rstrip(" |").endswith("holds | all (p = 0.05)")
    assert rows["RJVAE < DSA"].rstrip(" |").endswith("holds | all (p = 0.05)")
    assert "took 13.0 min of wall time (train 10.0 min, judge 1.0 min, evaluate 2.0 min, 2 commands at a time)" in text
    assert "**11.00 ± 2.48** (seeds: 10.00, 11.00, 12.00" in text  # MoCoGAN: sd 1, t(2) 4.303 / sqrt 3
    assert "has 3 classes" in text
    assert "every GAN with `--set` model.instance_noise=0.1" in text


def test_a_report_of_some_runs_states_only_the_directions_among_them():
    reports = {name: [_fd_report(v) for v in values] for name, values in
               {"mocogan": [10.0, 11.0, 12.0], "rmocogan": [9.0, 10.0, 11.5], "rjgan": [5.0, 5.5, 6.0]}.items()}
    for report, mean in zip(reports["rjgan"], (3.0, 3.1, 3.2)):  # RJGAN's G_I(mu) is always scored
        report["metrics"].update(_is_report(mean)["metrics"])
    args = types.SimpleNamespace(seeds=[0, 1, 2], steps=100, size="tiny", pretrain_steps=100,
                                 judge_steps=10, judge_ndf=8, eval_repeats=3, is_batches=2,
                                 is_batch_size=8, eval_seed=0, jobs=1, gan_set=[],
                                 runs=["mocogan", "rmocogan", "rjgan"])
    runner = types.SimpleNamespace(phases={"train": 60.0}, total=60.0)
    text = reproduce.tables(args, "python benchmarks/reproduce.py --runs=mocogan,rmocogan,rjgan", reports,
                            {}, 16, "tiny", 64, runner)
    directions = [line.split("|")[1].strip() for line in text.splitlines()
                  if line.startswith("| ") and "table 2 |" in line]
    assert directions == ["RJGAN < RMoCoGAN", "RMoCoGAN < MoCoGAN", "RJGAN < MoCoGAN"]
    # Table 3 and the mixture's are about runs left out; the VAEs' has none of its runs.
    for absent in ("pre-training <", "1:1 mixture <", "IS of", "RJVAE < DSA", "Table 3-like", "mixture (judge_fd",
                   "The VAEs"):
        assert absent not in text
    assert "## Table 2-like" in text and "- runs: mocogan, rmocogan, rjgan (`--runs`" in text
    # A table with some of its runs: shown, the missing ones marked.
    assert "| synthetic_sprites/tiny | not run (`--runs`) | **3.10" in text  # table 5: RJGAN's IS, no image baseline


def _touch(path, wait=0.0):
    code = f"import time, pathlib; time.sleep({wait}); pathlib.Path({str(path)!r}).write_text(str(time.time()))"
    return [sys.executable, "-c", code]


def test_the_runner_runs_jobs_side_by_side_after_what_they_need_and_skips_finished_ones(tmp_path):
    a, b, c = (tmp_path / name for name in "abc")
    jobs = [reproduce.Job("a", _touch(a, 0.5), done=a.exists),
            reproduce.Job("b", _touch(b), done=b.exists, after="a"),  # needs a's result
            reproduce.Job("c", _touch(c), done=c.exists)]
    runner = reproduce.Runner(str(tmp_path / "root"), jobs=2)
    runner.run_phase("train", jobs)
    assert float(b.read_text()) >= float(a.read_text())  # b started once a had finished
    assert float(c.read_text()) < float(a.read_text())  # c did not wait for a
    assert runner.phases["train"] > 0.5 and os.path.exists(tmp_path / "root" / "logs" / "wall.json")
    # A rerun skips what is done, and keeps the phase's wall time from before.
    again = reproduce.Runner(str(tmp_path / "root"), jobs=2)
    b.unlink()
    again.run_phase("train", jobs)
    assert b.exists() and again.phases["train"] > runner.phases["train"]
    failing = [reproduce.Job("bad", [sys.executable, "-c", "raise SystemExit(3)"])]
    with pytest.raises(SystemExit, match=r"error: bad failed \(exit 3\)"):
        again.run_phase("evaluate", failing)


def test_gan_overrides_reach_every_gan_run_and_no_vae():
    overrides = ["model.instance_noise=0.1", "model.instance_noise_at=every_conv"]
    for model in ("mocogan", "rmocogan", "rjgan", "image_gan"):
        assert reproduce.model_overrides(model, overrides) == [
            "--set=model.instance_noise=0.1", "--set=model.instance_noise_at=every_conv"]
    for model in ("dsa", "rjvae"):
        assert reproduce.model_overrides(model, overrides) == []
    assert set(reproduce.GAN_MODELS) | {"dsa", "rjvae"} == {model for model, _ in reproduce.RUNS.values()}


@pytest.mark.parametrize("flag, message", [
    ("--runs=rjgan,nosuch", "error: --runs=rjgan,nosuch: give one or more of mocogan,rmocogan,rjgan,"),
    ("--seeds=0,0", "error: --seeds: give at least one seed, each once"),
])
def test_bad_flags_are_one_line_before_any_run(tmp_path, flag, message):
    result = subprocess.run([sys.executable, _PATH, f"--workdir={tmp_path}", flag],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and result.stderr.strip().startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not os.listdir(tmp_path)
