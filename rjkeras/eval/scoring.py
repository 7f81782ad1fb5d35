"""2AFC human evaluation, the scores: every answer (left / right) mapped back to model A or B
through the study's key, and each model's Mean Worker Preference (the share of all answers, i.e.
averaged over workers x tasks, paper section 5.1) with a confidence interval
(`preference_interval`). The command is `python -m rjkeras.human_eval score`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import statistics

import numpy as np

from rjkeras.errors import UserError
from rjkeras.eval.study import FORMAT, SIDES

CI_METHODS = ("bootstrap", "normal", "wilson")


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
