"""Writes `dummy_data/`: six tiny Weizmann .avi files in the release's naming, written by OpenCV.

Frames are 40x32 (the release's are 180x144), Motion-JPEG in an AVI container (which OpenCV writes
and reads without a system ffmpeg), drawn like the MUG dummy frames (`mug/make_dummy_data.draw_frame`:
the top rows' grey level is 6 x the frame number, for order checks):

    daria_bend.avi   24 frames -> 2 clips (train)
    daria_side.avi   12 frames -> too short for one clip (16 frames)
    daria_wave1.avi  24 frames -> 2 clips (train; wave1 is an action)
    lena_run1.avi    24 frames -> 2 clips (train; lena's first take of run)
    lena_run2.avi    24 frames -> 2 clips (train; her second take)
    ido_jack.avi     24 frames -> 2 clips (test)

daria and lena are train people and ido a test person under the default split.

    python datasets/weizmann/make_dummy_data.py
"""

import pathlib

import cv2

from rjkeras.datasets.mug.make_dummy_data import HEIGHT, WIDTH, draw_frame

VIDEOS = {"daria_bend": 24, "daria_side": 12, "daria_wave1": 24, "lena_run1": 24, "lena_run2": 24,
          "ido_jack": 24}


def write_avi(path: pathlib.Path, num_frames: int, seed: int) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    for number in range(num_frames):
        writer.write(draw_frame(seed, number))
    writer.release()


def main() -> None:
    out = pathlib.Path(__file__).parent / "dummy_data"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.avi"):
        old.unlink()
    for seed, (stem, num_frames) in enumerate(VIDEOS.items()):
        write_avi(out / f"{stem}.avi", num_frames, seed)
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {len(VIDEOS)} videos ({size // 1024} KB) to {out}")


if __name__ == "__main__":
    main()
