"""tests/forkserver.py: a command forked from the preloaded server is the command a fresh
`python` would run, as far as the tests look: argv, environment, working directory, sys.path[0],
outputs, exit status, signals."""

import os
import signal
import subprocess
import sys
import time

import forkserver
import pytest

pytestmark = pytest.mark.skipif(not forkserver.enabled(), reason="the fork server is off")

PROBE = """
import os, sys
print("argv", sys.argv[1:], "cwd", os.getcwd(), "path0", sys.path[0], "x", os.environ.get("PROBE_X"))
print("to stderr", file=sys.stderr)
if sys.argv[1] == "sleep":
    import time
    open("started", "w").close()
    time.sleep(60)
if sys.argv[1] == "raise":
    raise ValueError("from the probe")
sys.exit(int(sys.argv[1]))
"""


@pytest.fixture
def probe(tmp_path):
    path = tmp_path / "scripts" / "probe.py"
    path.parent.mkdir()
    path.write_text(PROBE)
    return str(path)


def both(args, **kwargs):
    """(fresh, forked) results of one command."""
    fresh = subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)
    return fresh, forkserver.run(args, timeout=120, **kwargs)


def test_a_forked_script_sees_its_argv_environment_and_folder(probe, tmp_path):
    env = dict(os.environ, PROBE_X="42")
    fresh, forked = both([sys.executable, probe, "3", "a b"], env=env, cwd=str(tmp_path))
    forked_process = forkserver.Popen([sys.executable, probe, "0"])
    assert not isinstance(forked_process, subprocess.Popen) and forked_process.wait(60) == 0
    assert forked.returncode == fresh.returncode == 3
    assert forked.stdout == fresh.stdout == (
        f"argv ['3', 'a b'] cwd {tmp_path} path0 {os.path.dirname(probe)} x 42\n")
    assert forked.stderr == fresh.stderr == "to stderr\n"


def test_a_forked_module_runs_as_dash_m(tmp_path):
    fresh, forked = both([sys.executable, "-m", "rjkeras.prepare", "nosuch"], cwd=str(tmp_path))
    assert forked.returncode == fresh.returncode == 2
    assert forked.stderr.splitlines()[-1] == fresh.stderr.splitlines()[-1] == (
        "error: unknown dataset 'nosuch'; choose one of: mug, nir, sprites, synthetic_sprites, weizmann")


def test_an_uncaught_exception_ends_as_in_python(probe):
    fresh, forked = both([sys.executable, probe, "raise"])
    assert forked.returncode == fresh.returncode == 1
    assert forked.stderr.splitlines()[-1] == fresh.stderr.splitlines()[-1] == "ValueError: from the probe"
    assert "Traceback" in forked.stderr


def test_a_forked_command_is_its_own_process_and_dies_by_signal(probe, tmp_path):
    process = forkserver.Popen([sys.executable, probe, "sleep"], cwd=str(tmp_path))
    deadline = time.time() + 60
    while not (tmp_path / "started").exists():
        assert process.poll() is None and time.time() < deadline
        time.sleep(0.01)
    assert process.pid not in (os.getpid(), os.getppid())
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(timeout=0.1)
    process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert out.startswith("argv ['sleep']") and err == "to stderr\n"


def test_the_server_refuses_to_fork_a_running_tensorflow(tmp_path):
    code = ("import forkserver, tensorflow as tf; tf.constant(1.0); "
            f"forkserver.serve({str(tmp_path / 'socket')!r})")
    result = subprocess.run([sys.executable, "-c", code], cwd=os.path.dirname(forkserver.__file__),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "its thread pools would not survive a fork" in result.stderr.splitlines()[-1]
    assert not (tmp_path / "socket").exists()
