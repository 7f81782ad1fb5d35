"""Writes `dummy_data/subjects3/`: a tiny MUG release in MUG's own layout, 3 subjects.

Frames are 40x32 JPEGs drawn here (a coloured background, a face-like ellipse that no Haar
cascade takes for a face, and a band whose grey level is 6 x the frame number, so tests can check
frame order). Frame files are numbered without zero padding (img_1.jpg ... img_40.jpg), so a
lexical sort would put img_10 before img_2: the builder must sort numerically.

    subjects3/001/anger/take000           40 frames  -> 2 clips (train)
    subjects3/001/happiness/take001       40 frames  -> 2 clips (train)
    subjects3/001/neutral/take000          8 frames  -> ignored (neutral)
    subjects3/002/session1/fear/take000   40 frames  -> 2 clips (train)
    subjects3/002/session2/surprise/take003  40      -> 2 clips (train)
    subjects3/002/sadness/take002         24 frames  -> too short for one clip (31 frames)
    subjects3/008/disgust/take000         40 frames  -> 2 clips (test)
    subjects3/008/sadness/take001         40 frames  -> 2 clips (test)

Subjects 001 and 002 are train subjects and 008 a test subject under the default split.

    python datasets/mug/make_dummy_data.py
"""

import pathlib
import shutil

import cv2
import numpy as np

TAKES = {  # take folder -> number of frames
    "001/anger/take000": 40,
    "001/happiness/take001": 40,
    "001/neutral/take000": 8,
    "002/session1/fear/take000": 40,
    "002/session2/surprise/take003": 40,
    "002/sadness/take002": 24,
    "008/disgust/take000": 40,
    "008/sadness/take001": 40,
}
WIDTH, HEIGHT = 40, 32
BAND_ROWS = 8  # the top rows carry the frame number
BAND_STEP = 6  # grey level per frame number


def draw_frame(seed: int, number: int, grey: bool = False) -> np.ndarray:
    """One (HEIGHT, WIDTH, 3) BGR frame (or (HEIGHT, WIDTH) grey): background colour from `seed`,
    a moving ellipse, and the top BAND_ROWS rows at grey level BAND_STEP * number."""
    rng = np.random.default_rng(seed)
    image = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    image[:] = rng.integers(40, 200, 3)
    centre = (WIDTH // 2 + int(4 * np.sin(number / 4)), HEIGHT // 2 + 4)
    cv2.ellipse(image, centre, (9, 11), 0, 0, 360, tuple(int(v) for v in rng.integers(100, 255, 3)), -1)
    cv2.circle(image, (centre[0] - 4, centre[1] - 3), 2, (20, 20, 20), -1)
    cv2.circle(image, (centre[0] + 4, centre[1] - 3), 2, (20, 20, 20), -1)
    image[:BAND_ROWS] = BAND_STEP * number
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if grey else image


def main() -> None:
    out = pathlib.Path(__file__).parent / "dummy_data" / "subjects3"
    shutil.rmtree(out, ignore_errors=True)
    for seed, (take, num_frames) in enumerate(TAKES.items()):
        folder = out / take
        folder.mkdir(parents=True)
        for number in range(1, num_frames + 1):
            cv2.imwrite(str(folder / f"img_{number}.jpg"), draw_frame(seed, number),
                        [cv2.IMWRITE_JPEG_QUALITY, 90])
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {len(TAKES)} takes ({size // 1024} KB) to {out}")


if __name__ == "__main__":
    main()
