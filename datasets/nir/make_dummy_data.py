"""Writes `dummy_data/OriginalImg/`: a tiny Oulu-CASIA NIR release in its own layout, 3 subjects.

Frames are 40x32 grey JPEGs drawn like the MUG dummy frames (`mug/make_dummy_data.draw_frame`: the
top rows' grey level is 6 x the frame number, for order checks), numbered 000.jpeg ... as the
release numbers them:

    OriginalImg/NI/Strong/P001/Anger      20 frames -> 2 clips (train)
    OriginalImg/NI/Strong/P001/Surprise   20 frames -> 2 clips (train)
    OriginalImg/NI/Strong/P002/Fear       20 frames -> 2 clips (train)
    OriginalImg/NI/Strong/P002/Happiness  12 frames -> too short for one clip (16 frames)
    OriginalImg/NI/Strong/P002/Sadness    20 frames -> 2 clips (train)
    OriginalImg/NI/Strong/P003/Disgust    20 frames -> 2 clips (test)
    OriginalImg/NI/Strong/P003/Happiness  20 frames -> 2 clips (test)

P001 and P002 are train subjects and P003 a test subject under the default split.

    python datasets/nir/make_dummy_data.py
"""

import pathlib
import shutil

import cv2

from rjkeras.datasets.mug.make_dummy_data import draw_frame

SEQUENCES = {  # sequence folder -> number of frames
    "P001/Anger": 20,
    "P001/Surprise": 20,
    "P002/Fear": 20,
    "P002/Happiness": 12,
    "P002/Sadness": 20,
    "P003/Disgust": 20,
    "P003/Happiness": 20,
}


def main() -> None:
    out = pathlib.Path(__file__).parent / "dummy_data" / "OriginalImg"
    shutil.rmtree(out, ignore_errors=True)
    for seed, (sequence, num_frames) in enumerate(SEQUENCES.items()):
        folder = out / "NI" / "Strong" / sequence
        folder.mkdir(parents=True)
        for number in range(num_frames):
            cv2.imwrite(str(folder / f"{number:03d}.jpeg"), draw_frame(seed, number, grey=True),
                        [cv2.IMWRITE_JPEG_QUALITY, 90])
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {len(SEQUENCES)} sequences ({size // 1024} KB) to {out}")


if __name__ == "__main__":
    main()
