"""TensorBoard: panels (frame grids, frames across and videos down, and the same videos as
animated GIFs, which TensorBoard's image dashboard plays), and event files made consistent again
when a run resumes."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

GAP = 2  # pixels between frames


def to_uint8(x):
    """[-1, 1] floats (any shape) -> uint8 pixels."""
    return tf.cast(tf.clip_by_value(tf.round((x + 1.0) * 127.5), 0.0, 255.0), tf.uint8)


def video_grid(videos, first_column=None) -> np.ndarray:
    """Videos (N, T, H, W, 3) uint8 -> one image (N*(H+gap), ..., 3): frames across, videos down.

    `first_column` (N, H, W, 3), e.g. each video's summary frame, is put before the frames with
    a wider gap so it reads as a separate column.
    """
    videos = np.asarray(videos)
    n, t, h, w, _ = videos.shape
    extra = 0 if first_column is None else w + 3 * GAP
    grid = np.full((n * (h + GAP) - GAP, extra + t * (w + GAP) - GAP, 3), 255, np.uint8)
    for i in range(n):
        top = i * (h + GAP)
        if first_column is not None:
            grid[top:top + h, :w] = np.asarray(first_column)[i]
        for j in range(t):
            left = extra + j * (w + GAP)
            grid[top:top + h, left:left + w] = videos[i, j]
    return grid


def interleave(real, fake) -> np.ndarray:
    """(N, T, H, W, 3) x 2 -> (2N, T, H, W, 3): each real video followed by its reconstruction."""
    real, fake = np.asarray(real), np.asarray(fake)
    return np.stack([real, fake], axis=1).reshape((-1,) + real.shape[1:])


def gif_frames(videos, first_column=None) -> np.ndarray:
    """(N, T, H, W, 3) uint8 -> (T, rows*(H+GAP)-GAP, N*(W+GAP)-GAP, 3): frame t tiles the N
    videos' frame t side by side; `first_column` (N, H, W, 3), when given, is a still row above."""
    videos = np.asarray(videos)
    frames = []
    for t in range(videos.shape[1]):
        rows = [videos[:, t]] if first_column is None else [np.asarray(first_column), videos[:, t]]
        frames.append(video_grid(np.stack(rows)))  # (rows, N, H, W, 3): rows down, videos across
    return np.stack(frames)


def write_image(name: str, image: np.ndarray, step: int, description: str | None = None):
    tf.summary.image(name, image[None], step=step, description=description)


GIF_FPS = 8.0


def write_gif(name: str, frames: np.ndarray, step: int, description: str | None = None,
              fps: float = GIF_FPS) -> None:
    """Frames (T, H, W, 3) uint8 as an animated GIF image summary.

    The image plugin's summary is a string tensor [width, height, encoded image, ...] (what
    `tf.summary.image` writes with PNGs); TensorBoard serves the encoded bytes as they are, with
    the type their header says, so a GIF plays in the browser.
    """
    from tensorboard.plugins.image import metadata

    from rjkeras.media import gif_bytes

    height, width = frames.shape[1:3]
    tensor = tf.constant([str(width).encode(), str(height).encode(), gif_bytes(frames, fps)])
    tf.summary.write(name, tensor, step=step,
                     metadata=metadata.create_summary_metadata(display_name=None, description=description))


def write_panels(model, config, real_videos, step: int) -> None:
    """The image panels of a model at a step (call under a summary writer).

    - every video model: samples from the prior, each row a video; RJGAN and RJVAE put each
      video's summary frame in the first column (paper figs. 3 and 7);
    - RMoCoGAN and MoCoGAN: videos sharing one content vector z_C, with motion resampled
      (paper fig. 5);
    - image-only GAN: a grid of images;
    - VAEs: test videos alternating with their reconstructions.
    """
    t = config.train
    n = t.panel_videos
    length = getattr(config.model, "clip_length", config.data.num_frames)
    seed = tf.constant([t.seed, 12345], tf.int64)  # the same draws at every step
    if not getattr(model, "has_video", True):
        images = to_uint8(model.sample_images(n * 8, seed)).numpy()
        write_image("samples/images", video_grid(images.reshape((n, 8) + images.shape[1:])), step)
        return
    samples = model.sample(n, length, seed)
    videos = to_uint8(samples["videos"]).numpy()
    if "summary_frames" in samples:
        summary = to_uint8(samples["summary_frames"]).numpy()
        write_image("samples/videos_with_summary_frames", video_grid(videos, summary), step,
                    "Left: the summary frame (decoder or G_I of mu); right: the video's frames.")
        write_gif("animated/videos_with_summary_frames", gif_frames(videos, summary), step,
                  "The videos side by side, playing; above each, its summary frame (still).")
    else:
        write_image("samples/videos", video_grid(videos), step)
        write_gif("animated/videos", gif_frames(videos), step, "The videos side by side, playing.")
    if hasattr(model, "sample_with_content"):
        rows = [model.sample_with_content(2, length, tf.constant([t.seed, i], tf.int64),
                                          tf.constant([t.seed, 100 + i], tf.int64))
                for i in range(max(n // 2, 1))]
        fixed = to_uint8(tf.concat(rows, 0)).numpy()
        write_image("samples/fixed_content_varied_motion", video_grid(fixed), step,
                    "Each pair of rows shares its content vector z_C; the motion z_M differs.")
        write_gif("animated/fixed_content_varied_motion", gif_frames(fixed), step,
                  "Each two neighbours share their content vector z_C; the motion z_M differs.")
    if real_videos is not None and hasattr(model, "reconstruct"):
        recon = to_uint8(model.reconstruct(real_videos)).numpy()
        real = to_uint8(real_videos).numpy()
        write_image("reconstructions", video_grid(interleave(real, recon)), step,
                    "Rows alternate: a test video, its reconstruction.")
        write_gif("animated/reconstructions", gif_frames(interleave(real, recon)), step,
                  "Side by side in pairs: a test video, its reconstruction.")


def truncate_events(logdir: str, after_step: int) -> int:
    """Drops the events of steps after `after_step` from the event files in `logdir`.

    A run resumed from the checkpoint of `after_step` writes those steps again; without this,
    TensorBoard would show each of them twice. A record cut short by a crash (the file's damaged
    tail) is dropped too. Files are rewritten beside themselves and renamed over, so a crash here
    loses nothing. Returns the number of events dropped.
    """
    dropped = 0
    for path in sorted(tf.io.gfile.glob(os.path.join(logdir, "events.out.tfevents.*"))):
        kept, late, damaged = [], 0, False
        try:
            for record in tf.data.TFRecordDataset(path):
                record = record.numpy()
                if tf.compat.v1.Event.FromString(record).step > after_step:
                    late += 1
                else:
                    kept.append(record)
        except tf.errors.DataLossError:
            damaged = True
        if late or damaged:
            # The temporary name lacks "tfevents", so TensorBoard never reads a half-written copy.
            partial = os.path.join(logdir, ".truncating")
            with tf.io.TFRecordWriter(partial) as writer:
                for record in kept:
                    writer.write(record)
            os.replace(partial, path)
            dropped += late
    return dropped
