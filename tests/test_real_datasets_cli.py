"""The training CLI on the real-data builders (mug, nir, weizmann), end to end in subprocesses.

Each builder's dummy data (its raw format: JPEG trees, .avi files) is prepared on demand by
`python -m rjkeras.train`, whose preset for the dataset must fit it (16-frame clips), and tiny
networks train for 5 steps.
"""

import pathlib

import forkserver
import pytest

pytestmark = pytest.mark.slow

DATASETS_DIR = pathlib.Path(__file__).parent.parent / "datasets"


@pytest.mark.parametrize("dataset", ["mug", "nir", "weizmann"])
def test_rjgan_trains_on_the_dummy_raw_data(dataset, tmp_path):
    result = forkserver.run_module(
        "rjkeras.train", "--model=rjgan", f"--dataset={dataset}",
        f"--manual_dir={DATASETS_DIR / dataset / 'dummy_data'}", "--size=tiny", "--steps=5",
        f"--data_dir={tmp_path / 'data'}", f"--workdir={tmp_path / 'run'}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # Prepared on demand, with the builder's summary line; then trained and checkpointed.
    assert f"{dataset}/64: wrote " in result.stderr
    assert (tmp_path / "data" / dataset / "64" / "1.0.0" / "dataset_info.json").exists()
    assert (tmp_path / "run" / "checkpoints" / "ckpt-5.index").exists()
