"""Animated panels in TensorBoard: a GIF written by `rjkeras.summaries.write_gif` is listed by
TensorBoard's image plugin, served as image/gif with every frame, and shown by Chromium."""

import io
import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest
import tensorflow as tf
import testing_utils
from PIL import Image

from rjkeras import media
from rjkeras.summaries import write_gif


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers.get("Content-Type"), response.read()


@pytest.mark.slow
def test_tensorboard_serves_the_gif_and_chromium_shows_it(chromium, tmp_path):
    frames = np.zeros((4, 16, 24, 3), np.uint8)  # a white bar moving right: 4 distinct frames
    for t in range(4):
        frames[t, :, 6 * t:6 * (t + 1)] = 255
    logdir = tmp_path / "tensorboard"
    with tf.summary.create_file_writer(str(logdir / "train")).as_default():
        write_gif("animated/videos", frames, step=7)

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", f"--logdir={logdir}", f"--port={port}",
                               "--host=127.0.0.1", "--reload_interval=1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/data/plugin/images"
    try:
        listed, deadline = [], time.time() + 90
        while time.time() < deadline and not listed:
            try:
                _, body = _get(f"{base}/images?run=train&tag={urllib.parse.quote('animated/videos')}")
                listed = json.loads(body)
            except OSError:
                pass
            time.sleep(0.5)
        assert listed, "TensorBoard never listed the animated panel"
        [entry] = listed
        assert entry["step"] == 7
        url = f"{base}/individualImage?{entry['query']}"
        content_type, served = _get(url)
        assert content_type == "image/gif" and served == media.gif_bytes(frames, 8.0)
        gif = Image.open(io.BytesIO(served))
        assert gif.n_frames == 4 and gif.size == (24, 16)

        browser = testing_utils.headless_chromium(chromium, tmp_path)
        try:
            browser.get(url)  # the URL TensorBoard's image dashboard puts in its <img>
            shown = browser.execute_script(
                "const img = document.images[0];"
                "return img && img.complete ? [img.naturalWidth, img.naturalHeight] : null;")
            assert shown == [24, 16]
        finally:
            browser.quit()
    finally:
        server.terminate()
        server.wait(timeout=30)
