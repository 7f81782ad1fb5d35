"""Writes `dummy_data/npy/`: the 36 files of the Sprites release with 2 train and 1 test characters.

Frames are synthetic_sprites drawings stored as the release stores them (float32 RGB/256), so the
files keep the release's exact layout while compressing well in git.

    python datasets/sprites/make_dummy_data.py
"""

import itertools
import pathlib

import numpy as np

from rjkeras.datasets.sprites import sprites_dataset_builder as sprites
from rjkeras.datasets.synthetic_sprites import synthetic_sprites_dataset_builder as synthetic

NUM_ROWS = {"train": 2, "test": 1}
# (body, bottom, top, hair) of each row; test characters differ from train ones.
CHARACTERS = {"train": [(0, 1, 2, 3), (4, 5, 0, 1)], "test": [(2, 3, 4, 5)]}


def main() -> None:
    out = pathlib.Path(__file__).parent / "dummy_data" / "npy"
    out.mkdir(parents=True, exist_ok=True)
    for split in sprites.SPLITS:
        characters = CHARACTERS[split][: NUM_ROWS[split]]
        videos = [synthetic.render_character(c, i, seed=0) for i, c in enumerate(characters)]
        one_hot = np.zeros((len(characters), sprites.NUM_FRAMES, 4, 6), np.float32)  # (N, 8, 4, 6)
        for row, character in enumerate(characters):
            one_hot[row, :, np.arange(4), character] = 1.0
        file_directions = ("front", "left", "right")
        for (a, action), direction in itertools.product(enumerate(sprites.ACTIONS), file_directions):
            d = sprites.DIRECTIONS.index(direction)
            frames = np.stack([v[a, d] for v in videos]).astype(np.float32) / 256.0  # (N, 8, 64, 64, 3)
            stem = f"{sprites._FILE_ACTIONS[action]}_{direction}"
            np.save(out / f"{stem}_frames_{split}.npy", frames)
            np.save(out / f"{stem}_attributes_{split}.npy", one_hot)
    print(f"wrote {len(list(out.iterdir()))} files to {out}")


if __name__ == "__main__":
    main()
