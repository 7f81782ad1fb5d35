"""2AFC human evaluation (paper sections 5.1, 5.2 and 5.4): build a study, then score its answers.

    python -m rjkeras.human_eval make --model_a=workdirs/rjgan_mug --model_b=workdirs/mocogan_mug \\
        --num_pairs=128 --length=16 --seed=0 --output=studies/rjgan_vs_mocogan
    python -m rjkeras.human_eval score --study=studies/rjgan_vs_mocogan --answers=answers.csv

`make` draws sample i of model A and sample i of model B (the paper's random pairing), puts A on
the left in exactly half the tasks (in a random order drawn from --seed), and writes the study
folder:

    study.json         the key: models, seeds, which side shows A in each task, the question
    index.html         a self-contained page (media inlined as data URIs): every task's two
                       samples side by side, the question, a choice per task, "Download answers"
    tasks.csv          one row per task for crowd-sourcing platforms (MTurk batch input):
                       study_id, task_id, left_url, right_url
    mturk_layout.html  an MTurk HIT layout reading those columns; its answer is Answer.choice
    media/             <task_id>-left.gif / -right.gif (--mode=animated), .png (--mode=strip:
                       the frames side by side, the paper's VAE study; --kind=images)

Nothing a worker sees tells which model is which: the page and media carry task ids and sides
only; study.json holds the key. `score` maps every answer (left / right) back to A / B and
reports each model's Mean Worker Preference (the share of all answers, i.e. averaged over
workers x tasks, paper section 5.1) with a confidence interval (see `preference_interval`).
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import datetime
import functools
import hashlib
import html
import io
import json
import os
import statistics
import string

import numpy as np

from rjkeras.errors import UserError, fail, parse_flags
from rjkeras.media import STRIP_GAP, gif_bytes, png_bytes, strip  # noqa: F401  (part of the kit's API)
from rjkeras.runs import open_generator as load_generator  # noqa: F401  (the kit opens models with it)

FORMAT = "rjkeras-2afc/1"
QUESTIONS = {  # the paper's questions (sections 5.1 and 5.2)
    "videos": "Which video looks more realistic?",
    "images": "Which image looks more realistic?",
}
STRIP_NOTE = "Each video is shown as its frames in order, left to right."
SIDES = ("left", "right")
DISPLAY_PIXELS = 256  # samples are shown about this tall (whole-number zoom, pixelated)
CI_METHODS = ("bootstrap", "normal", "wilson")


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

    models = {"a": load_generator(model_a, name_a), "b": load_generator(model_b, name_b)}
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

PAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "eval", "study_page")


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


# ----------------------------------------------------------------------------------------------
# score


def load_study(folder: str) -> dict:
    path = os.path.join(folder, "study.json")
    if not os.path.exists(path):
        raise UserError(f"{path} not found: --study must be a folder written by "
                        "`python -m rjkeras.human_eval make`")
    try:
        with open(path, encoding="utf-8") as f:
            study = json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {path}: {e}") from None
    if not isinstance(study, dict) or study.get("format") != FORMAT:
        raise UserError(f"{path} is not a study of rjkeras.human_eval (format {FORMAT})")
    return study


@dataclasses.dataclass
class Answer:
    task_id: str
    choice: str  # "left" or "right"
    worker_id: str
    source: str  # file and row, for error messages


# Column names, first found wins: the study page's CSV, then MTurk's batch results.
COLUMNS = {
    "task": ("task_id", "Input.task_id"),
    "choice": ("choice", "Answer.choice", "Answer.choice.label"),
    "worker": ("worker_id", "WorkerId"),
    "study": ("study_id", "Input.study_id"),
}


def _pick(header: list[str], role: str, override: str | None, path: str, required: bool) -> str | None:
    names = (override,) if override else COLUMNS[role]
    for name in names:
        if name in header:
            return name
    if required:
        raise UserError(f"{path}: no {role} column (looked for {', '.join(names)}; "
                        f"found {', '.join(header) or 'no header'})")
    return None


def read_answers(path: str, study_id: str, columns: dict | None = None) -> list[Answer]:
    """Answers from a CSV (the page's download or an MTurk batch-results file) or JSON.

    JSON: a list of {"task_id", "choice"[, "worker_id", "study_id"]} records, or an object
    {task_id: choice or {"choice": ...}} (the page's `window.answers`), optionally wrapped as
    {"study_id": ..., "worker_id": ..., "answers": {...}}. Answers with no worker id count as one
    worker per file. MTurk rows with AssignmentStatus "Rejected" are left out.
    """
    columns = columns or {}
    if not os.path.exists(path):
        raise UserError(f"answers file {path} not found")
    default_worker = f"file:{os.path.basename(path)}"
    records = []  # (row label, task, choice, worker, study)
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read answers file {path}: {e}") from None
    if path.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError as e:
            raise UserError(f"{path} is not valid JSON: {e}") from None
        file_study, worker = None, default_worker
        if isinstance(data, dict) and isinstance(data.get("answers"), (dict, list)):
            file_study, worker = data.get("study_id"), data.get("worker_id") or default_worker
            data = data["answers"]
        if isinstance(data, dict):
            data = [{"task_id": k, **(v if isinstance(v, dict) else {"choice": v})} for k, v in data.items()]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise UserError(f"{path}: expected a list of answer records or an object of task_id: choice")
        for i, r in enumerate(data):
            records.append((f"{path} record {i + 1}", r.get("task_id"), r.get("choice"),
                            r.get("worker_id") or worker, r.get("study_id") or file_study))
    else:
        reader = csv.DictReader(io.StringIO(text))
        header = reader.fieldnames or []
        task_col = _pick(header, "task", columns.get("task"), path, True)
        choice_col = _pick(header, "choice", columns.get("choice"), path, True)
        worker_col = _pick(header, "worker", columns.get("worker"), path, False)
        study_col = _pick(header, "study", None, path, False)
        for i, row in enumerate(reader):
            if (row.get("AssignmentStatus") or "").strip() == "Rejected":
                continue
            records.append((f"{path} line {i + 2}", row.get(task_col), row.get(choice_col),
                            (row.get(worker_col) if worker_col else None) or default_worker,
                            row.get(study_col) if study_col else None))

    answers = []
    for where, task, choice, worker, study in records:
        if study and str(study).strip() != study_id:
            raise UserError(f"{where}: answers of study {str(study).strip()}, not of this study "
                            f"({study_id}): is --study the folder these tasks came from?")
        choice = str(choice or "").strip().lower()
        if choice not in SIDES:
            raise UserError(f"{where}: choice {choice!r} is not left or right")
        answers.append(Answer(str(task or "").strip(), choice, str(worker).strip(), where))
    return answers


def _z(confidence: float) -> float:
    return statistics.NormalDist().inv_cdf(0.5 + confidence / 2)


def preference_interval(wins: np.ndarray, counts: np.ndarray, *, method: str = "bootstrap",
                        confidence: float = 0.95, resamples: int = 10_000,
                        seed: int = 0) -> tuple[float, float, float]:
    """Mean Worker Preference and its confidence interval from per-task tallies.

    Args:
        wins: (tasks,) answers preferring the model, per task.
        counts: (tasks,) answers per task (only tasks with at least one answer).
        method: "bootstrap" (default): percentile interval of a cluster bootstrap that resamples
            whole tasks with replacement. The answers of one task (5 workers on one pair) are not
            independent: they share the pair's two samples, and when one sample is clearly worse
            all five pick the other. The pairs are the random draw the study generalises over,
            so tasks are the unit to resample; treating the answers as independent (Wilson)
            understates the uncertainty by up to sqrt(workers per task).
            "normal": the same clustering in closed form: p +- z * SE, with the cluster-robust
            (ratio-estimator) variance K/(K-1) * sum_i (wins_i - p * counts_i)^2 / (sum counts)^2
            over the K tasks. Deterministic; close to the bootstrap for ~100 tasks.
            "wilson": the Wilson score interval over all answers as independent; right only
            when every task has one answer.
    Returns:
        (preference, low, high), shares in [0, 1].
    """
    wins = np.asarray(wins, np.float64)
    counts = np.asarray(counts, np.float64)
    total = counts.sum()
    p = float(wins.sum() / total)
    z = _z(confidence)
    if method == "wilson":
        centre = (p + z * z / (2 * total)) / (1 + z * z / total)
        half = z / (1 + z * z / total) * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
        return p, float(centre - half), float(centre + half)
    k = len(counts)
    if method == "normal":
        variance = k / (k - 1) * np.sum((wins - p * counts) ** 2) / total**2 if k > 1 else 0.0
        half = z * float(np.sqrt(variance))
        return p, max(0.0, p - half), min(1.0, p + half)
    if method != "bootstrap":
        raise UserError(f"--ci={method}: choose one of {', '.join(CI_METHODS)}")
    rng = np.random.default_rng(seed)
    shares = []
    for start in range(0, resamples, 1000):  # bounded memory: (1000, tasks) counts at a time
        draws = rng.multinomial(k, np.full(k, 1.0 / k), size=min(1000, resamples - start))
        shares.append(draws @ wins / (draws @ counts))
    low, high = np.quantile(np.concatenate(shares), [(1 - confidence) / 2, (1 + confidence) / 2])
    return p, float(low), float(high)


def score_study(folder: str, answer_files: list[str], *, method: str = "bootstrap",
                confidence: float = 0.95, resamples: int = 10_000, seed: int = 0,
                columns: dict | None = None) -> dict:
    """Scores the answers of a study: each model's Mean Worker Preference with its interval."""
    if method not in CI_METHODS:
        raise UserError(f"--ci={method}: choose one of {', '.join(CI_METHODS)}")
    if not 0 < confidence < 1:
        raise UserError(f"--confidence={confidence}: must be between 0 and 1, e.g. 0.95")
    if resamples < 100:
        raise UserError(f"--resamples={resamples}: use at least 100 (10000 gives stable intervals)")
    if not answer_files:
        raise UserError("no answers given: --answers=<csv or json> (repeatable)")
    study = load_study(folder)
    tasks = {task["task_id"]: task for task in study["tasks"]}
    answers = [a for path in answer_files for a in read_answers(path, study["study_id"], columns)]
    unknown = sorted({a.task_id for a in answers} - set(tasks))
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise UserError(f"answers name task ids not in the study {folder}: {shown} "
                        "(answers of another study?)")
    if not answers:
        raise UserError(f"no answers in {', '.join(answer_files)}")
    seen = {}
    for a in answers:
        key = (a.worker_id, a.task_id)
        if key in seen:
            raise UserError(f"worker {a.worker_id} answered task {a.task_id} twice ({seen[key]}; "
                            f"{a.source}): is a file given twice?")
        seen[key] = a.source

    answered = {a.task_id for a in answers}
    ids = [t for t in tasks if t in answered]  # study order
    index = {t: i for i, t in enumerate(ids)}
    wins_a, counts = np.zeros(len(ids)), np.zeros(len(ids))
    for a in answers:
        i = index[a.task_id]
        counts[i] += 1
        wins_a[i] += a.choice == tasks[a.task_id]["a_side"]
    p, low, high = preference_interval(wins_a, counts, method=method, confidence=confidence,
                                       resamples=resamples, seed=seed)
    n = len(answers)
    models = study["models"]
    return {
        "study_id": study["study_id"],
        "kind": study["kind"],
        "mode": study["mode"],
        "num_tasks": len(tasks),
        "num_tasks_answered": len(ids),
        "num_answers": n,
        "num_workers": len({a.worker_id for a in answers}),
        "left_share": sum(a.choice == "left" for a in answers) / n,
        "ci": {"method": method, "confidence": confidence,
               **({"resamples": resamples, "seed": seed} if method == "bootstrap" else {})},
        "models": [
            {"role": "a", "name": models["a"]["name"], "preference": p, "ci": [low, high],
             "answers": int(wins_a.sum())},
            {"role": "b", "name": models["b"]["name"], "preference": 1 - p, "ci": [1 - high, 1 - low],
             "answers": int(n - wins_a.sum())},
        ],
    }


_CI_NAMES = {"bootstrap": "cluster bootstrap over tasks", "normal": "cluster-robust normal over tasks",
             "wilson": "Wilson score over answers"}


def format_scores(scores: dict) -> str:
    ci = scores["ci"]
    how = _CI_NAMES[ci["method"]]
    if ci["method"] == "bootstrap":
        how += f", {ci['resamples']} resamples, seed {ci['seed']}"
    lines = [
        f"study {scores['study_id']}: {scores['kind']} ({scores['mode']}); {scores['num_answers']} answers "
        f"from {scores['num_workers']} worker{'s' * (scores['num_workers'] != 1)} on "
        f"{scores['num_tasks_answered']} of "
        f"{scores['num_tasks']} tasks; left chosen in {100 * scores['left_share']:.1f}%",
        f"Mean Worker Preference, {100 * ci['confidence']:g}% CI ({how}):",
    ]
    width = max(len(m["name"]) for m in scores["models"])
    for m in scores["models"]:
        lines.append(f"  {m['name']:<{width}}  {100 * m['preference']:5.1f}%  "
                     f"[{100 * m['ci'][0]:5.1f}%, {100 * m['ci'][1]:5.1f}%]  "
                     f"({m['answers']} of {scores['num_answers']} answers)")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Command line.

def define_flags() -> None:
    """The command's flags; defined only when it runs, so importing the library defines none."""
    from absl import flags

    flags.DEFINE_string("model_a", None, "make: model A, a SavedModel folder or a training work dir.")
    flags.DEFINE_string("model_b", None, "make: model B, a SavedModel folder or a training work dir.")
    flags.DEFINE_string("name_a", None, "make: model A's name in the scores; default its folder name.")
    flags.DEFINE_string("name_b", None, "make: model B's name in the scores; default its folder name.")
    flags.DEFINE_integer("num_pairs", 128, "make: tasks, one pair of samples each (paper: 128).")
    flags.DEFINE_integer("length", 16, "make: frames per video.")
    flags.DEFINE_integer("seed", 0, "make: draws the sample seeds and the sides. score: the bootstrap's.")
    flags.DEFINE_enum("kind", "videos", list(QUESTIONS), "make: compare videos, or images from the "
                      "fixed prior (generate_images; the paper's image study).")
    flags.DEFINE_enum("mode", "animated", ["animated", "strip"], "make: videos as animated GIFs, or "
                      "as their frames side by side in one PNG (the paper's VAE study).")
    flags.DEFINE_float("fps", 8.0, "make: frames per second of the animated GIFs.")
    flags.DEFINE_string("output", None, "make: the study folder to write.")
    flags.DEFINE_string("question", None, "make: the question; default the paper's.")
    flags.DEFINE_string("description", "", "make: a short description of the dataset shown to workers.")
    flags.DEFINE_string("media_url", "", "make: prefix of the media URLs in tasks.csv, where you "
                        "upload media/ (e.g. https://bucket.example.org/study/); default relative.")
    flags.DEFINE_string("study", None, "score: the study folder (holds study.json).")
    flags.DEFINE_multi_string("answers", [], "score: answers, CSV or JSON (repeatable).")
    flags.DEFINE_enum("ci", "bootstrap", list(CI_METHODS), "score: confidence interval: cluster "
                      "bootstrap over tasks, its closed-form normal version, or Wilson over answers.")
    flags.DEFINE_float("confidence", 0.95, "score: confidence level of the interval.")
    flags.DEFINE_integer("resamples", 10_000, "score: bootstrap resamples.")
    flags.DEFINE_string("task_column", None, "score: CSV column of task ids (default task_id or "
                        "Input.task_id).")
    flags.DEFINE_string("choice_column", None, "score: CSV column of choices, left/right (default "
                        "choice, Answer.choice or Answer.choice.label).")
    flags.DEFINE_string("worker_column", None, "score: CSV column of worker ids (default worker_id or "
                        "WorkerId).")
    flags.DEFINE_bool("json", False, "score: print the scores as JSON.")


def _require(**values) -> None:
    for flag, value in values.items():
        if not value:
            raise UserError(f"--{flag} is required for this command")


def main(argv: list[str]) -> None:
    from absl import flags, logging

    FLAGS = flags.FLAGS
    logging.set_verbosity(logging.WARNING)
    try:
        if len(argv) != 2 or argv[1] not in ("make", "score"):
            raise UserError(f"expected one command, make or score, got {' '.join(argv[1:]) or 'none'} "
                            "(python -m rjkeras.human_eval make|score --flag=value ...)")
        if argv[1] == "make":
            _require(model_a=FLAGS.model_a, model_b=FLAGS.model_b, output=FLAGS.output)
            study = make_study(FLAGS.model_a, FLAGS.model_b, FLAGS.output, num_pairs=FLAGS.num_pairs,
                               length=FLAGS.length, seed=FLAGS.seed, kind=FLAGS.kind, mode=FLAGS.mode,
                               fps=FLAGS.fps, name_a=FLAGS.name_a, name_b=FLAGS.name_b,
                               question=FLAGS.question, description=FLAGS.description,
                               media_url=FLAGS.media_url)
            print(f"study {study['study_id']}: {study['num_pairs']} tasks in {FLAGS.output} "
                  f"(index.html, tasks.csv, mturk_layout.html, media/; key in study.json)")
        else:
            _require(study=FLAGS.study, answers=FLAGS.answers)
            columns = {"task": FLAGS.task_column, "choice": FLAGS.choice_column,
                       "worker": FLAGS.worker_column}
            scores = score_study(FLAGS.study, FLAGS.answers, method=FLAGS.ci, confidence=FLAGS.confidence,
                                 resamples=FLAGS.resamples, seed=FLAGS.seed,
                                 columns={k: v for k, v in columns.items() if v})
            print(json.dumps(scores, indent=2) if FLAGS.json else format_scores(scores))
    except UserError as e:
        fail(e)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from absl import app

    define_flags()
    app.run(main, flags_parser=parse_flags)
