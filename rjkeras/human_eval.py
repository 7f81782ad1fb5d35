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
workers x tasks, paper section 5.1) with a confidence interval (see
`rjkeras.eval.scoring.preference_interval`).
"""

from __future__ import annotations

import json
import os

from rjkeras.cli import defaults_of, parse_flags
from rjkeras.errors import UserError, fail
from rjkeras.eval.scoring import CI_METHODS, format_scores, score_study
from rjkeras.eval.study import QUESTIONS, make_study


def define_flags() -> None:
    """The command's flags; defined only when it runs, so importing the library defines none. Their
    defaults are `make_study`'s and `score_study`'s own."""
    from absl import flags

    make, score = defaults_of(make_study), defaults_of(score_study)
    flags.DEFINE_string("model_a", None, "make: model A, a SavedModel folder or a training work dir.")
    flags.DEFINE_string("model_b", None, "make: model B, a SavedModel folder or a training work dir.")
    flags.DEFINE_string("name_a", make["name_a"], "make: model A's name in the scores; default its folder name.")
    flags.DEFINE_string("name_b", make["name_b"], "make: model B's name in the scores; default its folder name.")
    flags.DEFINE_integer("num_pairs", make["num_pairs"], "make: tasks, one pair of samples each (paper: 128).")
    flags.DEFINE_integer("length", make["length"], "make: frames per video.")
    flags.DEFINE_integer("seed", make["seed"], "make: draws the sample seeds and the sides. score: the "
                         "bootstrap's.")
    flags.DEFINE_enum("kind", make["kind"], list(QUESTIONS), "make: compare videos, or images from the "
                      "fixed prior (generate_images; the paper's image study).")
    flags.DEFINE_enum("mode", make["mode"], ["animated", "strip"], "make: videos as animated GIFs, or "
                      "as their frames side by side in one PNG (the paper's VAE study).")
    flags.DEFINE_float("fps", make["fps"], "make: frames per second of the animated GIFs.")
    flags.DEFINE_string("output", None, "make: the study folder to write.")
    flags.DEFINE_string("question", make["question"], "make: the question; default the paper's.")
    flags.DEFINE_string("description", make["description"], "make: a short description of the dataset "
                        "shown to workers.")
    flags.DEFINE_string("media_url", make["media_url"], "make: prefix of the media URLs in tasks.csv, where "
                        "you upload media/ (e.g. https://bucket.example.org/study/); default relative.")
    flags.DEFINE_string("study", None, "score: the study folder (holds study.json).")
    flags.DEFINE_multi_string("answers", [], "score: answers, CSV or JSON (repeatable).")
    flags.DEFINE_enum("ci", score["method"], list(CI_METHODS), "score: confidence interval: cluster "
                      "bootstrap over tasks, its closed-form normal version, or Wilson over answers.")
    flags.DEFINE_float("confidence", score["confidence"], "score: confidence level of the interval.")
    flags.DEFINE_integer("resamples", score["resamples"], "score: bootstrap resamples.")
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
