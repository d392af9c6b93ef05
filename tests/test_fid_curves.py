"""bench/fid_curves.py on a real run: the scores a tiny CycleGAN took while it trained, placed
at the training hours its records give, or rebuilt from its speed for runs recorded before
runs were timed."""

import importlib.util
import json
import subprocess
import sys

import pytest

from translate.errors import ConfigError

from .conftest import REPO
from .cyclegan_data import horse2zebra, horse_zebra_argv
from .training_runs import train

spec = importlib.util.spec_from_file_location("fid_curves", REPO / "bench" / "fid_curves.py")
fid_curves = importlib.util.module_from_spec(spec)
sys.path.insert(0, str(REPO / "bench"))  # the script imports its sibling helpers, as when run
try:
    spec.loader.exec_module(fid_curves)
finally:
    sys.path.remove(str(REPO / "bench"))


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory, data_root):
    """A tiny CycleGAN trained 3 epochs on real photos, scored after epochs 1, 2 and 3."""
    root = tmp_path_factory.mktemp("curves")
    run = root / "run"
    weights = data_root / "fid" / "inception-2015-12-05-fid.pt"
    train(*horse_zebra_argv(horse2zebra(root / "data"), "--out", str(run), "--epochs", "2", "--epochs-decay", "1",
                            "--eval-every", "1", "--fid-weights", str(weights)))
    return run


def records(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def without_clock(record):
    return {k: v for k, v in record.items() if k not in ("train_hours", "cpu_hours", "clock_from_step", "machine")}


def run_with_records(scored_run, folder, new_records):
    """A copy of ``scored_run`` (its checkpoints give the batch size) whose metrics.jsonl is ``new_records``."""
    (folder / "checkpoints").mkdir(parents=True)
    for item in (scored_run / "checkpoints").iterdir():
        target = folder / "checkpoints" / item.name
        target.symlink_to(item) if item.is_dir() else target.write_text(item.read_text())
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in new_records))
    return folder


@pytest.mark.slow
def test_scores_sit_at_the_hours_the_run_recorded(scored_run):
    epochs = [r for r in records(scored_run) if "images_per_s" in r]
    assert all(r["machine"] and r["train_hours"] > 0 and r["cpu_hours"] > 0 for r in epochs)
    rows = fid_curves.scores_over_time(scored_run, "horse_to_zebra/fid")
    scored = [r for r in records(scored_run) if "eval" in r]
    assert [(row["epoch"], row["hours"], row["value"]) for row in rows] == [
        (r["epoch"], r["train_hours"], r["eval"]["horse_to_zebra/fid"]) for r in scored]
    assert [row["epoch"] for row in rows] == [1, 2, 3] and all(row["measured"] for row in rows)
    cpu = fid_curves.scores_over_time(scored_run, "zebra_to_horse/fid", "cpu_hours")
    assert [row["hours"] for row in cpu] == [r["cpu_hours"] for r in scored]
    best = fid_curves.within(rows, rows[1]["hours"])
    assert best["last"] == rows[1] and best["best"] == min(rows[:2], key=lambda row: row["value"])
    assert best["next"] == rows[2]  # the curve's point on the other side of the budget
    assert fid_curves.within(rows, 0) == {"last": None, "next": rows[0], "best": None}
    text = fid_curves.table({"tiny": rows}, "horse_to_zebra/fid", rows[1]["hours"], "train_hours")
    assert f"| tiny | 3 | {rows[2]['step']} | {rows[2]['hours']:.2f} | {rows[2]['value']:.2f} |\n" in text
    assert "averaged" not in text and all(row["averaged"] == 0 for row in rows)
    averaged = [{**row, "averaged": 4} if row["epoch"] == 3 else row for row in rows]  # as --average-from-epoch 3
    text = fid_curves.table({"tiny": averaged}, "horse_to_zebra/fid", None, "train_hours")
    assert "| weights averaged |" in text
    assert f"| tiny | 3 | {rows[2]['step']} | {rows[2]['hours']:.2f} | {rows[2]['value']:.2f} | 4 |" in text
    assert f"| tiny | 1 | {rows[0]['step']} | {rows[0]['hours']:.2f} | {rows[0]['value']:.2f} | 0 |" in text


@pytest.mark.slow
def test_a_run_recorded_before_runs_were_timed_gets_its_hours_from_its_speed(scored_run, tmp_path):
    untimed = [without_clock(r) for r in records(scored_run)]
    old = run_with_records(scored_run, tmp_path / "old", untimed)
    rows = fid_curves.scores_over_time(old, "horse_to_zebra/fid")
    batch = fid_curves.batch_size(old)
    expected, previous = [], 0
    for record in (r for r in untimed if "images_per_s" in r):
        hours = (record["step"] - previous) * batch / record["images_per_s"] / 3600
        expected.append((expected[-1] if expected else 0) + hours)
        previous = record["step"]
    assert [row["hours"] for row in rows] == pytest.approx(expected)
    assert not any(row["measured"] for row in rows)
    assert "| ≈" in fid_curves.table({"old": rows}, "horse_to_zebra/fid", None, "train_hours")
    with pytest.raises(ConfigError, match="recorded before runs were timed"):
        fid_curves.scores_over_time(old, "horse_to_zebra/fid", "cpu_hours")
    with pytest.raises(ConfigError, match="holds no 'horse_to_zebra/psnr' scores: choose one of its own with "
                                          "--score: .*horse_to_zebra/fid, horse_to_zebra/kid_mean"):
        fid_curves.scores_over_time(old, "horse_to_zebra/psnr")
    unscored = run_with_records(scored_run, tmp_path / "unscored", [r for r in untimed if "eval" not in r])
    with pytest.raises(ConfigError, match="never scored during training \\(train with --eval-every N\\)"):
        fid_curves.scores_over_time(unscored, "horse_to_zebra/fid")


@pytest.mark.slow
def test_a_run_timed_from_a_later_step_adds_its_hours_to_those_rebuilt_before(scored_run, tmp_path):
    """A run recorded before runs were timed, resumed under the clock: the clock counts from the
    resume (``clock_from_step``), so its hours follow the ones rebuilt for the steps before it."""
    original = records(scored_run)
    first = next(r for r in original if "images_per_s" in r)
    start, hours_then, cpu_then = first["step"], first["train_hours"], first["cpu_hours"]
    mixed = [without_clock(r) if r["step"] <= start else
             {**r, "train_hours": r["train_hours"] - hours_then, "cpu_hours": r["cpu_hours"] - cpu_then,
              "clock_from_step": start} for r in original]
    run = run_with_records(scored_run, tmp_path / "mixed", mixed)
    rows = fid_curves.scores_over_time(run, "horse_to_zebra/fid")
    rebuilt = start * fid_curves.batch_size(scored_run) / first["images_per_s"] / 3600
    scored = [r for r in original if "eval" in r]
    assert rows[0]["hours"] == pytest.approx(rebuilt)
    later = [rebuilt + r["train_hours"] - hours_then for r in scored[1:]]
    assert [row["hours"] for row in rows[1:]] == pytest.approx(later)
    assert not any(row["measured"] for row in rows)
    # CPU time: the untimed steps count at the CPU time per step of the span the run timed
    last = [r for r in mixed if "images_per_s" in r][-1]
    per_step = last["cpu_hours"] / (last["step"] - start)
    cpu = fid_curves.scores_over_time(run, "horse_to_zebra/fid", "cpu_hours")
    assert [row["hours"] for row in cpu] == pytest.approx(
        [start * per_step] + [start * per_step + r["cpu_hours"] - cpu_then for r in scored[1:]])
    assert not any(row["measured"] for row in cpu)


def test_a_bad_run_folder_is_one_line_that_names_it_not_a_traceback(tmp_path):
    missing = tmp_path / "no-such-run"
    done = subprocess.run([sys.executable, str(REPO / "bench" / "fid_curves.py"), f"gone={missing}", "--tag", "t"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert str(missing) in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_line_cut_short_by_a_kill_is_passed_over(scored_run, tmp_path):
    run = run_with_records(scored_run, tmp_path / "run", records(scored_run))
    with (run / "metrics.jsonl").open("a") as file:
        file.write('{"epoch": 4, "step": 9, "eval": {"horse_to_')  # a kill during the write
    assert fid_curves.scores_over_time(run, "horse_to_zebra/fid") == fid_curves.scores_over_time(
        scored_run, "horse_to_zebra/fid")
