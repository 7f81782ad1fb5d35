"""2AFC human evaluation: make a study from two tiny untrained models, answer it, score it.

The scoring tests need no model. The study tests build two tiny models (a SavedModel of RJGAN
and a work dir of MoCoGAN at step 0), make the study through the CLI, and check its key against
samples drawn again from the seeds. The end-to-end test answers the page in headless Chromium
(Debian's `chromium` and `chromium-driver`, driven by selenium) and scores the downloaded answers.
"""

import base64
import csv
import io
import json
import os

import forkserver
import numpy as np
import pytest
import testing_utils
from testing_utils import assert_one_line_error

from rjkeras import media
from rjkeras import runs
from rjkeras.eval import scoring
from rjkeras.eval import study as study_lib
from rjkeras.errors import UserError


def run_cli(*args, timeout=120):
    return forkserver.run_module("rjkeras.human_eval", *args, timeout=timeout)


# ----------------------------------------------------------------------------------------------
# Scoring, on a hand-written study: four tasks, five workers each.

A_SIDES = ["left", "right", "left", "right"]
A_WINS = [5, 3, 1, 4]  # answers preferring model A, per task: 13 of 20


def write_study(folder, a_sides, study_id="s1"):
    os.makedirs(folder, exist_ok=True)
    tasks = [{"task_id": f"t{i + 1}", "a_side": side, "left": "", "right": ""}
             for i, side in enumerate(a_sides)]
    study = {"format": study_lib.FORMAT, "study_id": study_id, "kind": "videos", "mode": "animated",
             "models": {"a": {"name": "rjgan"}, "b": {"name": "mocogan"}}, "tasks": tasks}
    with open(os.path.join(folder, "study.json"), "w") as f:
        json.dump(study, f)
    return str(folder)


def answers_for(a_sides, a_wins, workers=5):
    """(task, worker, choice): the first a_wins[i] workers of task i pick model A's side."""
    rows = []
    for i, (side, wins) in enumerate(zip(a_sides, a_wins)):
        other = "right" if side == "left" else "left"
        rows += [(f"t{i + 1}", f"w{w}", side if w < wins else other) for w in range(workers)]
    return rows


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


@pytest.fixture
def scored_study(tmp_path):
    folder = write_study(tmp_path / "study", A_SIDES)
    rows = [("s1", task, choice, worker) for task, worker, choice in answers_for(A_SIDES, A_WINS)]
    return folder, write_csv(tmp_path / "answers.csv", ["study_id", "task_id", "choice", "worker_id"], rows)


def test_preference_and_intervals_by_hand(scored_study):
    folder, answers = scored_study
    # p = 13/20. Cluster-robust variance: K/(K-1) * sum_i (wins_i - p n_i)^2 / N^2
    # = 4/3 * (1.75^2 + 0.25^2 + 2.25^2 + 0.75^2) / 400 = 4/3 * 8.75 / 400; half = 1.96 * 0.17078.
    normal = scoring.score_study(folder, [answers], method="normal")
    a, b = normal["models"]
    assert (a["name"], a["answers"], b["name"], b["answers"]) == ("rjgan", 13, "mocogan", 7)
    assert a["preference"] == pytest.approx(0.65) and b["preference"] == pytest.approx(0.35)
    assert a["ci"] == pytest.approx([0.315272, 0.984728], abs=1e-5)
    assert b["ci"] == pytest.approx([0.015272, 0.684728], abs=1e-5)
    assert normal["num_answers"] == 20 and normal["num_workers"] == 5 and normal["num_tasks_answered"] == 4
    assert normal["left_share"] == pytest.approx(9 / 20)  # 5 + 2 + 1 + 1 lefts
    # Wilson over 20 answers taken as independent: narrower than the clustered interval.
    wilson = scoring.score_study(folder, [answers], method="wilson")
    assert wilson["models"][0]["ci"] == pytest.approx([0.432854, 0.818808], abs=1e-5)
    # The cluster bootstrap: shares of whole resampled tasks, so multiples of 1/20 here.
    boot = scoring.score_study(folder, [answers])
    assert boot["models"][0]["ci"] == pytest.approx([0.35, 0.9])
    assert boot == scoring.score_study(folder, [answers])  # seeded


def test_bootstrap_agrees_with_the_cluster_robust_interval_and_wilson_is_too_narrow():
    rng = np.random.default_rng(1)
    counts = np.full(128, 5)
    wins = rng.binomial(5, rng.beta(1.2, 0.8, 128))  # pairs differ: answers cluster by task
    p, low, high = scoring.preference_interval(wins, counts)
    _, n_low, n_high = scoring.preference_interval(wins, counts, method="normal")
    _, w_low, w_high = scoring.preference_interval(wins, counts, method="wilson")
    assert low < p < high
    assert low == pytest.approx(n_low, abs=0.01) and high == pytest.approx(n_high, abs=0.01)
    assert (w_high - w_low) < 0.75 * (high - low)


def test_mturk_results_and_json_answers(tmp_path, scored_study):
    folder, _ = scored_study
    rows = answers_for(A_SIDES, A_WINS)
    mturk = [("H", task, "s1", worker, choice.capitalize(), "Approved") for task, worker, choice in rows]
    mturk.append(("H", "t1", "s1", "w9", "Right", "Rejected"))  # left out
    mturk_csv = write_csv(tmp_path / "batch_results.csv", ["HITId", "Input.task_id", "Input.study_id",
                                                           "WorkerId", "Answer.choice", "AssignmentStatus"],
                          mturk)
    from_mturk = scoring.score_study(folder, [mturk_csv], method="normal")
    assert from_mturk["models"][0]["preference"] == pytest.approx(0.65)
    assert from_mturk["num_answers"] == 20

    # The page's window.answers, one file per worker, and a list of records.
    files = []
    for w in range(4):
        page = {task: {"choice": choice, "answered_at": "x"} for task, worker, choice in rows
                if worker == f"w{w}"}
        files.append(tmp_path / f"w{w}.json")
        files[-1].write_text(json.dumps(page))
    records = [{"task_id": task, "choice": choice, "worker_id": worker} for task, worker, choice in rows
               if worker == "w4"]
    files.append(tmp_path / "records.json")
    files[-1].write_text(json.dumps(records))
    from_json = scoring.score_study(folder, [str(f) for f in files], method="normal")
    assert from_json["models"] == from_mturk["models"] and from_json["num_workers"] == 5

    # Another platform's columns.
    other = write_csv(tmp_path / "other.csv", ["item", "pick", "rater"],
                      [(task, choice.upper(), worker) for task, worker, choice in rows])
    assert scoring.score_study(folder, [other], method="normal",
                                  columns={"task": "item", "choice": "pick", "worker": "rater"}
                                  )["models"] == from_mturk["models"]


def test_score_errors(tmp_path, scored_study):
    folder, answers = scored_study
    header = ["study_id", "task_id", "choice", "worker_id"]
    cases = {
        "not in the study": [("s1", "t1", "left", "w1"), ("s1", "t77", "left", "w1")],
        "answers of study other": [("other", "t1", "left", "w1")],
        "is not left or right": [("s1", "t1", "middle", "w1")],
        "answered task t1 twice": [("s1", "t1", "left", "w1"), ("s1", "t1", "right", "w1")],
    }
    for fragment, rows in cases.items():
        path = write_csv(tmp_path / "bad.csv", header, rows)
        with pytest.raises(UserError, match=fragment):
            scoring.score_study(folder, [path])
    with pytest.raises(UserError, match="no task column"):
        scoring.score_study(folder, [write_csv(tmp_path / "bad.csv", ["x", "choice"], [("t1", "left")])])
    with pytest.raises(UserError, match="study.json not found"):
        scoring.score_study(str(tmp_path), [answers])
    result = run_cli("score", f"--study={tmp_path}", f"--answers={answers}")  # no TensorFlow: fast
    assert_one_line_error(result, "study.json not found")
    assert_one_line_error(run_cli("score", f"--study={folder}"), "--answers is required")
    assert_one_line_error(run_cli("judge"), "expected one command, make or score")


# ----------------------------------------------------------------------------------------------
# Studies from two tiny untrained models.

NUM_PAIRS, LENGTH = 7, 4


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Model A: an RJGAN SavedModel; B: a MoCoGAN work dir (checkpoint at step 0); an image GAN."""
    from rjkeras import config as config_lib
    from rjkeras import trainer
    from rjkeras.export import module
    from rjkeras.models import build_model, compile_model

    root = tmp_path_factory.mktemp("models")
    config = config_lib.resolve("rjgan", "synthetic_sprites", size="tiny")
    module.save(build_model(config), config.data.image_size, str(root / "rjgan"))
    config = config_lib.resolve("image_gan", "synthetic_sprites", size="tiny")
    module.save(build_model(config), config.data.image_size, str(root / "image_gan"))
    config = config_lib.resolve("mocogan", "synthetic_sprites", size="tiny",
                                overrides={"train.seed": 3})
    workdir = str(root / "mocogan_workdir")
    runs.write_config(workdir, config)
    trainer.checkpoint_manager(compile_model(build_model(config), config), workdir).save(checkpoint_number=0)
    return {"a": str(root / "rjgan"), "b": workdir, "image_gan": str(root / "image_gan")}


@pytest.fixture(scope="module")
def study(models, tmp_path_factory):
    """A study made by the command line."""
    output = str(tmp_path_factory.mktemp("studies") / "cli")
    result = run_cli("make", f"--model_a={models['a']}", f"--model_b={models['b']}",
                     f"--num_pairs={NUM_PAIRS}", f"--length={LENGTH}", "--seed=0", f"--output={output}",
                     "--description=Tiny untrained models.", timeout=300)
    assert result.returncode == 0, result.stderr
    assert output in result.stdout
    return output, scoring.load_study(output)


def read_tasks_csv(folder):
    with open(os.path.join(folder, "tasks.csv"), newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_study_files_and_its_key(study, models):
    folder, key = study
    assert key["num_pairs"] == NUM_PAIRS and key["length"] == LENGTH and key["seed"] == 0
    assert key["sample_shape"] == [LENGTH, 16, 16, 3]
    assert key["question"] == "Which video looks more realistic?"
    assert key["models"]["a"] == {"name": "rjgan", "path": models["a"], "source": "saved_model"}
    assert key["models"]["b"]["source"] == "workdir" and key["models"]["b"]["checkpoint_step"] == 0
    sides = [t["a_side"] for t in key["tasks"]]
    assert sorted([sides.count("left"), sides.count("right")]) == [3, 4]  # balanced, odd one at random
    rows = read_tasks_csv(folder)
    assert [r["task_id"] for r in rows] == [t["task_id"] for t in key["tasks"]] == \
        [f"t{i:03d}" for i in range(1, NUM_PAIRS + 1)]
    assert {r["study_id"] for r in rows} == {key["study_id"]}

    # The key is true: the media on A's side is model A's sample drawn again from the task's seed.
    a = runs.open_generator(models["a"])
    b = runs.open_generator(models["b"])
    for task, row in zip(key["tasks"], rows):
        b_side = "right" if task["a_side"] == "left" else "left"
        for side, generator, seed in ((task["a_side"], a, task["a_seed"]), (b_side, b, task["b_seed"])):
            shown = read_bytes(os.path.join(folder, row[f"{side}_url"]))
            assert shown == media.gif_bytes(generator.sample("videos", seed, LENGTH), 8.0), task

    from PIL import Image
    gif = Image.open(os.path.join(folder, rows[0]["left_url"]))
    assert gif.size == (16, 16) and gif.n_frames <= LENGTH and gif.info["loop"] == 0

    # Nothing shown to workers tells the models apart.
    page = read_text(os.path.join(folder, "index.html"))
    for shown in (page, read_text(os.path.join(folder, "tasks.csv")),
                  read_text(os.path.join(folder, "mturk_layout.html"))):
        assert "rjgan" not in shown and "mocogan" not in shown and "a_side" not in shown
    assert "src=\"data:image/gif;base64," in page and "src=\"media/" not in page  # self-contained
    assert "Tiny untrained models." in page and key["question"] in page
    layout = read_text(os.path.join(folder, "mturk_layout.html"))
    assert "${left_url}" in layout and 'name="choice"' in layout


@pytest.mark.slow
def test_same_seed_same_study_other_seed_other_draw(study, models, tmp_path):
    folder, key = study
    kwargs = dict(num_pairs=NUM_PAIRS, length=LENGTH, description="Tiny untrained models.")
    again = study_lib.make_study(models["a"], models["b"], str(tmp_path / "again"), seed=0, **kwargs)
    assert again["study_id"] == key["study_id"] and again["tasks"] == key["tasks"]
    for task in key["tasks"]:
        for side in ("left", "right"):
            assert read_bytes(os.path.join(folder, task[side])) == \
                read_bytes(tmp_path / "again" / task[side])
    other = study_lib.make_study(models["a"], models["b"], str(tmp_path / "other"), seed=1, **kwargs)
    assert other["study_id"] != key["study_id"]
    assert [t["a_seed"] for t in other["tasks"]] != [t["a_seed"] for t in key["tasks"]]
    with pytest.raises(UserError, match="already holds a study"):
        study_lib.make_study(models["a"], models["b"], str(tmp_path / "other"), **kwargs)


@pytest.mark.slow
def test_strip_and_image_studies(models, tmp_path):
    from PIL import Image

    strips = study_lib.make_study(models["a"], models["b"], str(tmp_path / "strip"), num_pairs=2,
                                   length=LENGTH, mode="strip", media_url="https://example.org/s/")
    png = Image.open(tmp_path / "strip" / strips["tasks"][0]["left"])
    assert png.size == (LENGTH * 16 + (LENGTH - 1) * media.STRIP_GAP, 16)
    assert read_tasks_csv(tmp_path / "strip")[0]["left_url"] == "https://example.org/s/media/t001-left.png"
    assert study_lib.STRIP_NOTE in read_text(tmp_path / "strip" / "index.html")

    images = study_lib.make_study(models["image_gan"], models["a"], str(tmp_path / "images"),
                                   num_pairs=2, kind="images", name_b="rjgan G_I(mu)")
    assert images["question"] == "Which image looks more realistic?" and images["length"] is None
    assert Image.open(tmp_path / "images" / images["tasks"][1]["right"]).size == (16, 16)
    assert images["models"]["b"]["name"] == "rjgan G_I(mu)"


@pytest.mark.slow
def test_make_errors(models, tmp_path):
    with pytest.raises(UserError, match="serves no generate_videos .*use --kind=images"):
        study_lib.make_study(models["image_gan"], models["a"], str(tmp_path / "s"), num_pairs=2)
    with pytest.raises(UserError, match="does not apply to --kind=images"):
        study_lib.make_study(models["a"], models["b"], str(tmp_path / "s"), kind="images", mode="strip")
    with pytest.raises(UserError, match="neither a SavedModel"):
        study_lib.make_study(str(tmp_path), models["b"], str(tmp_path / "s"))
    result = run_cli("make", f"--model_a={models['a']}", f"--model_b={models['b']}", "--num_pairs=0",
                     f"--output={tmp_path / 's'}")
    assert_one_line_error(result, "--num_pairs=0")


@pytest.mark.slow
def test_make_refuses_a_study_over_the_memory_budget(models, tmp_path, monkeypatch):
    monkeypatch.setattr(study_lib, "MEDIA_BUDGET_BYTES", 64 << 10)  # 64 KiB: a few pairs
    with pytest.raises(UserError, match=r"--num_pairs=1000: the study's media would take about .* MiB"):
        study_lib.make_study(models["a"], models["b"], str(tmp_path / "big"), num_pairs=1000, length=4)
    assert not (tmp_path / "big").exists()  # refused after one pair, before writing anything


# ----------------------------------------------------------------------------------------------
# End to end: a person answers the page in a browser; the downloaded answers are scored.


def _answer_page(chromium, folder, download_dir, worker, pick, download_name):
    """Opens the study, types the worker id, clicks the `pick(i)` sample of every task i (its
    image, as a person would), reloads (answers survive), downloads the answers (waiting for
    `download_name` to be complete), and returns what the page holds.

    The page is served over HTTP, as a study is put before workers. Opened from a file:// URL on a
    loaded 2-core host, about 1 reload in 40 gave the page an empty localStorage (the answers came
    back at the next reload): Chromium's doing, not the page's; README says so."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    browser = testing_utils.headless_chromium(chromium, download_dir)

    def wait_until_ready():
        WebDriverWait(browser, 20).until(lambda b: b.execute_script("return window.studyReady === true"))

    try:
        with testing_utils.serve_folder(folder) as url:
            browser.get(url + "index.html")
            wait_until_ready()
            browser.find_element(By.ID, "worker-id").send_keys(worker)
            tasks = browser.find_elements(By.CSS_SELECTOR, "fieldset.task")
            shown = {}
            for i, task in enumerate(tasks):
                tid = task.get_attribute("data-task-id")
                for side in ("left", "right"):
                    src = task.find_element(By.CSS_SELECTOR, f"label.{side} img").get_attribute("src")
                    shown[tid, side] = base64.b64decode(src.split(",", 1)[1])
                task.find_element(By.CSS_SELECTOR, f"label.{pick(i)} img").click()
            assert browser.find_element(By.ID, "progress").text == f"{len(tasks)} of {len(tasks)} answered"
            browser.refresh()
            wait_until_ready()
            page_answers = browser.execute_script("return window.answers")
            restored = browser.find_element(By.ID, "worker-id").get_attribute("value")
            assert (restored, len(page_answers)) == (worker, len(tasks)), "the reload lost the answers"
            textarea = browser.find_element(By.ID, "answers-csv").get_attribute("value")
            browser.find_element(By.ID, "download").click()
            testing_utils.wait_for_download(download_dir, download_name)
    finally:
        browser.quit()
    return shown, page_answers, textarea


@pytest.mark.slow
def test_answering_the_page_in_chromium_and_scoring(chromium, study, tmp_path):
    folder, key = study
    picks = {"w-alternating": lambda i: "left" if i % 3 == 0 else "right",
             "w-left": lambda i: "left"}
    files, clicked = [], {}
    for worker, pick in picks.items():
        download_dir = tmp_path / worker
        download_dir.mkdir()
        name = f"answers_{key['study_id']}_{worker}.csv"
        shown, page_answers, textarea = _answer_page(chromium, folder, download_dir, worker, pick, name)
        for task in key["tasks"]:  # the page shows the study's media, on the sides of the key
            for side in ("left", "right"):
                assert shown[task["task_id"], side] == read_bytes(os.path.join(folder, task[side]))
        assert {t: a["choice"] for t, a in page_answers.items()} == \
            {t["task_id"]: pick(i) for i, t in enumerate(key["tasks"])}
        assert [f for f in os.listdir(download_dir) if f.endswith(".csv")] == [name]
        csv_text = read_text(download_dir / name)
        assert csv_text == textarea
        rows = list(csv.DictReader(io.StringIO(csv_text)))
        assert {(r["worker_id"], r["study_id"]) for r in rows} == {(worker, key["study_id"])}
        files.append(str(download_dir / name))
        clicked[worker] = [pick(i) for i in range(len(key["tasks"]))]

    # What the clicks mean, from the key: a click on A's side is a vote for A.
    votes_a = sum(choice == task["a_side"] for choices in clicked.values()
                  for choice, task in zip(choices, key["tasks"]))
    total = 2 * NUM_PAIRS
    result = run_cli("score", f"--study={folder}", *[f"--answers={f}" for f in files], "--json")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    a, b = scores["models"]
    assert (a["name"], a["answers"], b["answers"]) == ("rjgan", votes_a, total - votes_a)
    assert a["preference"] == pytest.approx(votes_a / total)
    assert b["preference"] == pytest.approx(1 - votes_a / total)
    assert a["ci"][0] <= a["preference"] <= a["ci"][1]
    assert scores["num_answers"] == total and scores["num_workers"] == 2
    assert scores["num_tasks_answered"] == NUM_PAIRS
    lefts = sum(c == "left" for choices in clicked.values() for c in choices)
    assert scores["left_share"] == pytest.approx(lefts / total)
    # The always-left worker alone: balanced sides make a pure position bias score about 50%.
    alone = scoring.score_study(folder, files[1:])
    assert abs(alone["models"][0]["answers"] - NUM_PAIRS / 2) <= 0.5
    text = run_cli("score", f"--study={folder}", *[f"--answers={f}" for f in files]).stdout
    assert "Mean Worker Preference, 95% CI (cluster bootstrap over tasks" in text and "rjgan" in text
