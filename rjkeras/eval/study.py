"""2AFC human evaluation, the study (paper sections 5.1, 5.2 and 5.4): pairs of samples of two
models with balanced sides, the self-contained page, the crowd-sourcing files and the key
(`make_study`; the command is `python -m rjkeras.human_eval make`, which lists the files).
Nothing a worker sees tells which model is which: the key is study.json alone.
"""

from __future__ import annotations

import base64
import csv
import datetime
import functools
import hashlib
import html
import json
import os
import string

import numpy as np

from rjkeras.errors import UserError
from rjkeras.media import STRIP_GAP, gif_bytes, png_bytes, strip
from rjkeras.runs import open_generator

FORMAT = "rjkeras-2afc/1"
QUESTIONS = {  # the paper's questions (sections 5.1 and 5.2)
    "videos": "Which video looks more realistic?",
    "images": "Which image looks more realistic?",
}
STRIP_NOTE = "Each video is shown as its frames in order, left to right."
SIDES = ("left", "right")
DISPLAY_PIXELS = 256  # samples are shown about this tall (whole-number zoom, pixelated)


# ----------------------------------------------------------------------------------------------
# make


def balanced_sides(num_pairs: int, rng: np.random.Generator) -> list[str]:
    """Which side shows model A in each task: left in exactly half of them (the odd one out at
    random), in a random order. Balance makes any left/right bias of the workers cancel out of
    the preference exactly, not only on average as independent coin flips would."""
    sides = ["left"] * (num_pairs // 2) + ["right"] * (num_pairs // 2)
    if num_pairs % 2:
        sides.append(SIDES[int(rng.integers(2))])
    return [sides[i] for i in rng.permutation(num_pairs)]


def _check_positive(value: int, flag: str, limit: int | None = None) -> None:
    if value < 1 or (limit is not None and value > limit):
        bound = f" and at most {limit}" if limit is not None else ""
        raise UserError(f"--{flag}={value}: must be at least 1{bound}")


# A study's media are held in memory until written, and index.html embeds them all (one file to
# hand to people): a study must fit this.
MEDIA_BUDGET_BYTES = 1 << 30


def _check_media_budget(pair_bytes: int, num_pairs: int) -> None:
    """Refuses, after the first pair, a study whose media would exceed MEDIA_BUDGET_BYTES."""
    estimate = pair_bytes * num_pairs
    if estimate > MEDIA_BUDGET_BYTES:
        raise UserError(
            f"--num_pairs={num_pairs}: the study's media would take about {estimate / 2**20:.0f} MiB "
            f"({pair_bytes / 2**10:.0f} KiB a pair), over the {MEDIA_BUDGET_BYTES >> 20} MiB a study "
            "holds in memory and embeds in index.html; use fewer pairs or a shorter --length, or "
            "split the study")


def make_study(model_a: str, model_b: str, output: str, *, num_pairs: int = 128, length: int = 16,
               seed: int = 0, kind: str = "videos", mode: str = "animated", fps: float = 8.0,
               name_a: str | None = None, name_b: str | None = None, question: str | None = None,
               description: str = "", media_url: str = "") -> dict:
    """Draws the pairs, writes the study folder (see the module docstring); returns study.json.

    Sample i of a model is its `generate_videos(num_videos=1, length, seed=<task's seed>)` (or
    `generate_images(num_images=1, seed)`), so any single sample can be drawn again alone.
    """
    if kind not in QUESTIONS:
        raise UserError(f"--kind={kind}: choose videos or images")
    if mode not in ("animated", "strip"):
        raise UserError(f"--mode={mode}: choose animated (GIFs) or strip (frames side by side)")
    if kind == "images" and mode == "strip":
        raise UserError("--mode=strip shows the frames of videos; it does not apply to --kind=images")
    _check_positive(num_pairs, "num_pairs", 100_000)
    _check_positive(length, "length", 1024)
    if not fps > 0:
        raise UserError(f"--fps={fps}: must be positive")
    if os.path.exists(os.path.join(output, "study.json")):
        raise UserError(f"{output} already holds a study: choose another --output, or delete it first")

    models = {"a": open_generator(model_a, name_a), "b": open_generator(model_b, name_b)}
    if models["a"].name == models["b"].name:
        models["a"].name += " (A)"
        models["b"].name += " (B)"
    signature = "generate_videos" if kind == "videos" else "generate_images"
    for role, generator in models.items():
        if signature not in generator.signatures:
            hint = " (an image-only model: use --kind=images)" if kind == "videos" else ""
            raise UserError(f"model {role.upper()} ({generator.path}) serves no {signature}{hint}")

    rng = np.random.default_rng(seed)
    sides = balanced_sides(num_pairs, rng)
    sample_seeds = rng.integers(0, 2**31, size=(num_pairs, 2))  # JSON- and JavaScript-safe ints
    width = max(3, len(str(num_pairs)))
    extension = "gif" if kind == "videos" and mode == "animated" else "png"

    def encode(sample: np.ndarray) -> bytes:
        if kind == "images":
            return png_bytes(sample)
        return gif_bytes(sample, fps) if mode == "animated" else png_bytes(strip(sample))

    tasks, media, shapes = [], {}, {}
    started = datetime.datetime.now(datetime.timezone.utc)
    for i in range(num_pairs):
        task_id = f"t{i + 1:0{width}d}"
        a_seed, b_seed = (int(s) for s in sample_seeds[i])
        samples = {"a": models["a"].sample(kind, a_seed, length),
                   "b": models["b"].sample(kind, b_seed, length)}
        for role, sample in samples.items():
            shapes.setdefault(role, sample.shape)
        if shapes["a"] != shapes["b"]:
            raise UserError(f"model A makes samples of shape {shapes['a']} and model B of shape "
                            f"{shapes['b']}: a 2AFC study compares samples of one size")
        on_left = "a" if sides[i] == "left" else "b"
        task = {"task_id": task_id, "a_side": sides[i], "a_seed": a_seed, "b_seed": b_seed}
        for side, role in zip(SIDES, (on_left, "b" if on_left == "a" else "a")):
            task[side] = f"media/{task_id}-{side}.{extension}"
            media[task[side]] = encode(samples[role])
        tasks.append(task)
        if i == 0:
            _check_media_budget(sum(len(media[task[side]]) for side in SIDES), num_pairs)

    question = question or QUESTIONS[kind]
    digest = hashlib.sha256(question.encode())
    for task in tasks:  # what workers see and the key: the answers of this study, and no other
        digest.update(f"{task['task_id']}:{task['a_side']}".encode())
        for side in SIDES:
            digest.update(media[task[side]])
    study = {
        "format": FORMAT,
        "study_id": digest.hexdigest()[:16],
        "created_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "kind": kind,
        "mode": mode,
        "num_pairs": num_pairs,
        "length": length if kind == "videos" else None,
        "fps": fps if (kind, mode) == ("videos", "animated") else None,
        "sample_shape": list(shapes["a"]),
        "seed": seed,
        "question": question,
        "description": description,
        "models": {role: generator.describe() for role, generator in models.items()},
        "tasks": tasks,
    }
    _write_study(output, study, media, media_url)
    return study


def _write_study(output: str, study: dict, media: dict, media_url: str) -> None:
    try:
        os.makedirs(os.path.join(output, "media"), exist_ok=True)
        for relative, data in media.items():
            with open(os.path.join(output, relative), "wb") as f:
                f.write(data)
        with open(os.path.join(output, "index.html"), "w", encoding="utf-8") as f:
            f.write(study_page(study, media))
        with open(os.path.join(output, "mturk_layout.html"), "w", encoding="utf-8") as f:
            f.write(mturk_layout(study))
        with open(os.path.join(output, "tasks.csv"), "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["study_id", "task_id", "left_url", "right_url"])
            for task in study["tasks"]:
                writer.writerow([study["study_id"], task["task_id"], media_url + task["left"],
                                 media_url + task["right"]])
        # The key last, so a folder with study.json is always complete.
        with open(os.path.join(output, "study.json.tmp"), "w", encoding="utf-8") as f:
            json.dump(study, f, indent=2)
        os.replace(os.path.join(output, "study.json.tmp"), os.path.join(output, "study.json"))
    except OSError as e:
        raise UserError(f"cannot write the study to {output}: {e.strerror}") from None


# ----------------------------------------------------------------------------------------------
# The pages.

PAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "study_page")


@functools.lru_cache(maxsize=None)  # read once: a study fills option.html twice a task
def _asset(name: str) -> str:
    with open(os.path.join(PAGE_DIR, name), encoding="utf-8") as f:
        return f.read()


class _Html(str):
    """Markup already rendered (a filled template): `_fill` inserts it as it is."""


def _fill(name: str, **values) -> _Html:
    """Fills the page template `name` (string.Template): every value is HTML-escaped, except
    markup that `_fill` made itself."""
    escaped = {key: value if isinstance(value, _Html) else html.escape(str(value))
               for key, value in values.items()}
    return _Html(string.Template(_asset(name)).substitute(escaped))


def _notes(study: dict) -> list[str]:
    return [note for note in [study["description"]] + ([STRIP_NOTE] if study["mode"] == "strip" else [])
            if note]


def _data_uri(path: str, data: bytes) -> str:
    mime = "image/gif" if path.endswith(".gif") else "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _zoom(study: dict) -> int:
    return max(1, DISPLAY_PIXELS // study["sample_shape"][-3])  # whole-number zoom of the height


def study_page(study: dict, media: dict) -> str:
    """The self-contained study page: no request leaves it (media are data URIs). Its HTML, CSS
    and script are the files of rjkeras/eval/study_page/."""
    zoom = _zoom(study)
    height, width = study["sample_shape"][-3], study["sample_shape"][-2]
    if study["mode"] == "strip":
        t = study["sample_shape"][0]
        width = t * (width + STRIP_GAP) - STRIP_GAP
    tasks = []
    for number, task in enumerate(study["tasks"], 1):
        options = [_fill("option.html", side=side, uri=_data_uri(task[side], media[task[side]]),
                         width=width * zoom, height=height * zoom, task_id=task["task_id"],
                         label=side.capitalize()).rstrip("\n")
                   for side in SIDES]
        tasks.append(_fill("task.html", task_id=task["task_id"], number=number, count=len(study["tasks"]),
                           question=study["question"], options=_Html("\n".join(options))).rstrip("\n"))
    # JSON inside <script>: "<" escaped so that no "</script>" can end it early.
    data = json.dumps({"study_id": study["study_id"], "task_ids": [t["task_id"] for t in study["tasks"]]})
    return _fill("study.html", question=study["question"], style=_Html(_asset("study.css")),
                 script=_Html(_asset("study.js")), data=_Html(data.replace("<", "\\u003c")),
                 notes=_Html("".join(_fill("note.html", note=note) for note in _notes(study)).rstrip("\n")),
                 tasks=_Html("\n".join(tasks)))


def mturk_layout(study: dict) -> str:
    """An MTurk HIT layout (one task a HIT) reading tasks.csv's ${left_url} and ${right_url}.

    Its radio group `choice` gives the results column Answer.choice (left / right).
    """
    notes = "".join(_fill("note.html", note=note) for note in _notes(study)).rstrip("\n")
    return _fill("mturk_layout.html", question=study["question"], notes=_Html(notes),
                 height=study["sample_shape"][-3] * _zoom(study))
