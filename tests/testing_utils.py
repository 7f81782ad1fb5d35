"""Helpers shared by the tests (importable: setup.cfg puts tests/ on pytest's pythonpath)."""

import contextlib

import numpy as np
import tensorflow as tf


def moving_square_videos(num_videos: int, frames: int = 8, size: int = 16, seed: int = 0) -> np.ndarray:
    """A learnable toy: a coloured square moving in a straight line; float32 in [-1, 1].

    The background is lightly textured, as natural frames are.
    """
    rng = np.random.default_rng(seed)
    videos = rng.uniform(-1.0, -0.6, (num_videos, 1, size, size, 3)).astype(np.float32)
    videos = np.repeat(videos, frames, axis=1)
    side = size // 4
    for i in range(num_videos):
        colour = rng.uniform(-0.5, 1.0, 3)
        x, y = rng.integers(0, size - side, 2)
        dx, dy = rng.choice([-1, 1], 2)
        for t in range(frames):
            videos[i, t, y:y + side, x:x + side] = colour
            x = int(np.clip(x + dx, 0, size - side))
            y = int(np.clip(y + dy, 0, size - side))
    return videos


def relative_error(want, got) -> float:
    """The largest absolute difference over the largest magnitude of `want`."""
    want, got = np.asarray(want), np.asarray(got)
    return float(np.abs(want - got).max() / np.abs(want).max())


_STRATEGIES = {}


def mirrored(num_replicas: int) -> tf.distribute.MirroredStrategy:
    """One MirroredStrategy per replica count for the whole session.

    Two strategies over the same devices in one process can hand out the same collective
    instance keys, and their all-reduces then collide; a process (like the trainer) should
    hold one.
    """
    if num_replicas not in _STRATEGIES:
        devices = [f"/cpu:{i}" for i in range(num_replicas)]
        _STRATEGIES[num_replicas] = tf.distribute.MirroredStrategy(devices)
    return _STRATEGIES[num_replicas]


def assert_one_line_error(result, *fragments, last: bool = False):
    """A command's bad-input ending: status 2, no traceback, exactly one `error:` line holding
    every fragment (with last=True: and nothing printed after it)."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    if last:
        assert lines[-1] == errors[0], result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def chromium_paths() -> tuple[str, str]:
    """(browser, driver) executables of Debian's chromium; skips the test when one is missing."""
    import shutil

    import pytest

    pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[test]')")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    return browser, driver


def headless_chromium(chromium: tuple[str, str], download_dir):
    """A selenium-driven headless Chromium that downloads into `download_dir`."""
    import tempfile

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium[0]
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1200,900", f"--user-data-dir={tempfile.mkdtemp(dir=download_dir)}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(download_dir),
                                              "download.prompt_for_download": False})
    browser = webdriver.Chrome(service=Service(chromium[1]), options=options)
    # The prefs alone leave headless downloads to chromedriver's defaults; say it outright.
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)})
    return browser


@contextlib.contextmanager
def serve_folder(folder):
    """Serves `folder` at http://127.0.0.1:<free port>/ (yields that URL) for as long as the block runs."""
    import functools
    import http.server
    import threading

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep the test output clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def wait_for_download(download_dir, name: str, timeout: float = 180.0) -> None:
    """Waits until Chromium has finished downloading `name` into `download_dir`: the file exists
    (Chromium writes a `.crdownload` and renames it when complete) and no partial file is left.
    A 60-s wait for any CSV once fell short on a loaded 2-core host; on a timeout, says what the
    folder holds."""
    import os
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        present = os.listdir(download_dir)
        if name in present and not any(f.endswith(".crdownload") for f in present):
            return
        time.sleep(0.2)
    raise AssertionError(f"Chromium did not finish downloading {name} within {timeout:.0f} s; "
                         f"{download_dir} holds {sorted(os.listdir(download_dir))}")
