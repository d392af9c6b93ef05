"""Outputs never overwrite inputs: export refuses to write into the model it exports, a
name that is not .onnx, or over a file that is not an earlier export of the same kind of
model; apply refuses output folders that are, hold or lie inside the input, inputs that link
into the output, and existing files unless --overwrite, and skips the outputs of an earlier
apply found inside its input. No output of sample, apply, export or pack lands on a run's own
files, and pack writes only into a new or empty folder or, with --overwrite, over a model it
packed before, copying only regular files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from translate.apply import main as apply_main
from translate.cli import run_cli
from translate.export import main as export_main
from translate.io.fileio import write_image
from translate.modeling.checkpoint import find_checkpoint
from translate.pack import main as pack_main
from translate.sample import main as sample_main

from .cli_errors import one_line_error
from .exporting import trained_run


@pytest.fixture
def horses(tmp_path, data_root):
    folder = tmp_path / "photos" / "horses"
    folder.mkdir(parents=True)
    for file in sorted((data_root / "horse2zebra" / "testA").iterdir())[:2]:
        shutil.copy(file, folder / file.name)
    return folder


@pytest.mark.parametrize("target", ["horse2zebra.onnx", "exports/horse2zebra.onnx"])
def test_export_refuses_to_write_into_the_model_it_exports(translator_file, tmp_path, capsys, target):
    run = translator_file[0]
    checkpoint = find_checkpoint(run)
    packed = tmp_path / "packed"
    run_cli(pack_main, [str(run), "--out", str(packed)])
    for source, folder in ((run, checkpoint), (run, run), (packed, packed)):
        before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        error = one_line_error(capsys, export_main, str(source), "--out", str(folder / target))
        assert "lies inside the model it exports" in error
        assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before
        assert not (folder / target).exists()


def test_export_writes_only_onnx_files(translator_file, tmp_path, capsys):
    error = one_line_error(capsys, export_main, str(translator_file[0]), "--out", str(tmp_path / "model.pt"))
    assert "must be a .onnx file" in error and not (tmp_path / "model.pt").exists()


def test_export_replaces_only_an_earlier_export_of_the_same_kind_of_model(translator_file, tmp_path, capsys):
    run, earlier = translator_file
    shipped = tmp_path / "horse2zebra.onnx"
    shutil.copy(earlier, shipped)
    run_cli(export_main, [str(run), "--direction", "AtoB", "--out", str(shipped)])  # a better model, same kind
    before = shipped.read_bytes()
    error = one_line_error(capsys, export_main, str(run), "--direction", "BtoA", "--out", str(shipped))
    assert error == (f"error: --out {shipped} holds a cyclegan horse → zebra model, not a cyclegan zebra → horse "
                     "model like this one: choose another file, or remove it first to replace it")
    notes = tmp_path / "notes.onnx"
    notes.write_text("somebody's notes")
    error = one_line_error(capsys, export_main, str(run), "--out", str(notes))
    assert error == (f"error: --out {notes} exists and is not an ONNX file of this toolkit: choose another file, or "
                     "remove it first to replace it")
    assert shipped.read_bytes() == before and notes.read_text() == "somebody's notes"


def test_apply_refuses_an_output_that_holds_the_input(translator_file, horses, capsys):
    photos = horses.parent
    (photos / horses.iterdir().__next__().name).write_text("an unrelated original with the same name")
    before = {p: p.read_bytes() for p in photos.rglob("*") if p.is_file()}
    for output in (photos, horses, horses / "zebras"):
        error = one_line_error(capsys, apply_main, str(translator_file[0]), "--input", str(horses), "--output",
                               str(output))
        assert "the input folder" in error and "choose a folder outside it" in error
    assert {p: p.read_bytes() for p in photos.rglob("*") if p.is_file()} == before


def test_apply_refuses_an_input_that_links_into_the_output(translator_file, horses, tmp_path, capsys):
    out = tmp_path / "zebras"
    out.mkdir()
    precious = out / "precious.jpg"
    shutil.copy(next(horses.iterdir()), precious)
    (horses / "link.jpg").symlink_to(precious)
    error = one_line_error(capsys, apply_main, str(translator_file[0]), "--input", str(horses), "--output", str(out))
    assert "is a link into --output" in error


def test_apply_replaces_existing_files_only_when_told(translator_file, horses, tmp_path, capsys):
    out = tmp_path / "zebras"
    run_cli(apply_main, [str(translator_file[0]), "--input", str(horses), "--output", str(out)])
    first = {p.name: p.read_bytes() for p in out.glob("*.jpg")}
    assert len(first) == 2
    error = one_line_error(capsys, apply_main, str(translator_file[0]), "--input", str(horses), "--output", str(out))
    assert "and 1 more already exist: add --overwrite" in error
    for path in out.glob("*.jpg"):
        path.write_bytes(b"spoilt")
    run_cli(apply_main, [str(translator_file[0]), "--input", str(horses), "--output", str(out), "--overwrite"])
    assert {p.name: p.read_bytes() for p in out.glob("*.jpg")} == first  # written again, the same translations


def test_apply_refuses_to_write_onto_a_single_input_file(translator_file, horses, capsys):
    photo = next(horses.iterdir())
    error = one_line_error(capsys, apply_main, str(translator_file[0]), "--input", str(photo), "--output",
                           str(horses), "--overwrite")
    assert f"would write onto the input {photo}" in error
    error = one_line_error(capsys, apply_main, str(translator_file[0]), "--input", str(horses), "--output",
                           str(photo))  # a file where the folder would be: named up front, not an internal file
    assert error == (f"error: --output {photo} cannot be created: {photo} is a file, not a folder: "
                     "choose another --output")
    zebra = horses.parent / "zebra.JPG"  # meant as the output file: it would become a folder of that name
    error = one_line_error(capsys, apply_main, str(translator_file[0]), "--input", str(photo), "--output", str(zebra))
    assert error == (f"error: --output {zebra} names a file, but --output is the folder the translations go into "
                     f"(under their own names): e.g. --output {horses.parent / 'zebra'}/")
    assert not zebra.exists()


def test_an_earlier_output_inside_the_input_is_skipped(translator_file, horses, tmp_path, capsys):
    earlier = tmp_path / "photos" / "zebras"
    run_cli(apply_main, [str(translator_file[0]), "--input", str(horses), "--output", str(earlier)])
    capsys.readouterr()
    run_cli(apply_main, [str(translator_file[0]), "--input", str(tmp_path / "photos"), "--output",
                         str(tmp_path / "again")])
    assert "translated 2 image(s)" in capsys.readouterr().out  # the two horses, not the two earlier zebras
    assert sorted(p.parent.name for p in (tmp_path / "again").rglob("*.jpg")) == ["horses", "horses"]


def snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_pack_writes_only_into_a_new_folder_or_over_a_model_it_packed(tmp_path, capsys):
    run, other = trained_run(tmp_path, "dcgan", steps=1), trained_run(tmp_path, "cdcgan", steps=1, name="other")
    checkpoint = find_checkpoint(run)
    before = {folder: snapshot(folder) for folder in (run, other)}
    for source, out, message in (
        (checkpoint / "config.json", checkpoint, f"--out {checkpoint} lies inside {run}, which it packs"),
        (run, run / "checkpoints", "lies inside"),
        (run, other, f"--out {other} is the training run {other}: choose a new folder outside any run"),
        (run, other / "shipped", f"lies inside the training run {other}"),
        (run, tmp_path, "holds"),
    ):
        assert message in one_line_error(capsys, pack_main, str(source), "--out", str(out))
    assert {folder: snapshot(folder) for folder in (run, other)} == before  # the runs are as they were

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("mine")
    assert "holds other files and no readable model: choose" in one_line_error(capsys, pack_main, str(run), "--out",
                                                                              str(notes))
    (notes / "config.json").write_text("{")  # a damaged model folder says why it is not read
    (notes / "model.safetensors").write_bytes(b"junk")
    assert "holds other files and no readable model (" in one_line_error(capsys, pack_main, str(run), "--out",
                                                                         str(notes))
    model = tmp_path / "models" / "dcgan"
    run_cli(pack_main, [str(run), "--out", str(model)])
    (model / "README.md").write_text("the model card")
    assert "already holds a dcgan model: add --overwrite" in one_line_error(capsys, pack_main, str(run), "--out",
                                                                             str(model))
    assert "holds a dcgan model" in one_line_error(capsys, pack_main, str(other), "--out", str(model), "--overwrite")
    run_cli(pack_main, [str(run), "--out", str(model), "--overwrite"])
    assert sorted(p.name for p in model.iterdir()) == ["README.md", "config.json", "metrics.jsonl", "model.safetensors"]
    assert (model / "README.md").read_text() == "the model card"


def test_a_pack_that_fails_half_way_leaves_the_earlier_model_whole(tmp_path, capsys, monkeypatch):
    """Weights, config and record change together: a full disk after the weights were written
    used to leave new weights beside the old model's config; and a killed pack's temporary file
    made every later pack refuse the folder as holding other files."""
    import errno

    run = trained_run(tmp_path, "dcgan", steps=1)
    model = tmp_path / "models" / "dcgan"
    run_cli(pack_main, [str(run), "--out", str(model)])
    (model / "README.md").write_text("the model card")
    before = snapshot(model)
    real_write_text = Path.write_text

    def full_at_the_config(self, *args, **kwargs):
        if self.name.startswith(".config.json."):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_at_the_config)
    assert "the disk is full" in one_line_error(capsys, pack_main, str(run), "--out", str(model), "--overwrite",
                                                "--fp16")
    monkeypatch.undo()
    assert snapshot(model) == before  # the fp32 weights and their config, and no temporaries
    new = tmp_path / "models" / "new"
    new.mkdir()
    (new / ".model.safetensors.translate-0123abcd.tmp").write_bytes(b"what a killed pack leaves")
    run_cli(pack_main, [str(run), "--out", str(new), "--fp16"])
    assert sorted(p.name for p in new.iterdir()) == ["README.md", "config.json", "metrics.jsonl", "model.safetensors"]


def test_files_written_together_are_all_synced_before_any_is_renamed(tmp_path, monkeypatch):
    import errno
    import os

    from translate.errors import StorageError
    from translate.io.fileio import write_together

    for name in ("weights", "config"):
        (tmp_path / name).write_text("old")
    synced, real_fsync = [], os.fsync

    def failing_second_sync(fd):
        synced.append(fd)
        if len(synced) == 2:
            raise OSError(errno.EIO, "Input/output error")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_second_sync)
    with pytest.raises(StorageError, match="could not write .*config"):
        write_together(tmp_path, {"weights": lambda tmp: tmp.write_text("new"),
                                  "config": lambda tmp: tmp.write_text("new")})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config", "weights"]  # no temporaries left
    assert (tmp_path / "weights").read_text() == (tmp_path / "config").read_text() == "old"


def test_pack_copies_only_regular_files(tmp_path, capsys):
    run = trained_run(tmp_path, "dcgan", steps=1)
    secret = tmp_path / "secret.txt"
    secret.write_text("not the run's")
    (run / "metrics.jsonl").unlink()
    (run / "metrics.jsonl").symlink_to(secret)
    error = one_line_error(capsys, pack_main, str(run), "--out", str(tmp_path / "model"))
    assert f"{run / 'metrics.jsonl'} is a symbolic link, not a regular file, so it was not read" in error
    assert not (tmp_path / "model").exists()


def test_no_output_lands_on_a_run_s_own_files(translator_file, horses, tmp_path, capsys):
    run = translator_file[0]
    latest = run / "checkpoints" / "latest"
    before = snapshot(run)
    for main, argv in (
        (sample_main, [str(run), "--out", str(latest), "--n", "1"]),
        (sample_main, [str(run), "--out", str(run / "samples" / "epoch-001.png"), "--n", "1"]),
        (export_main, [str(tmp_path / "elsewhere"), "--out", str(run / "checkpoints" / "x.onnx")]),
        (apply_main, [str(run), "--input", str(horses), "--output", str(run / "checkpoints")]),
    ):
        if main is export_main:  # a model outside the run, exported into it
            run_cli(pack_main, [str(run), "--out", argv[0]])
        assert f"which belongs to the training run {run}" in one_line_error(capsys, main, *argv)
    assert snapshot(run) == before


def test_sample_refuses_a_format_it_cannot_write(tmp_path, capsys):
    run = trained_run(tmp_path, "dcgan", steps=1)
    for suffix in (".svg", ".txt"):
        error = one_line_error(capsys, sample_main, str(run), "--out", str(tmp_path / f"grid{suffix}"))
        assert f"cannot write an image as '{suffix}': use .png or .jpg" in error


def test_a_folder_named_as_the_output_file_is_refused_before_any_work(tmp_path, capsys):
    """sample wrote a PNG named ``grids`` for ``--out grids/``; evaluate scored for minutes and
    then failed to write its record into a folder (and printed nothing)."""
    from translate.evaluate import main as evaluate_main

    run = trained_run(tmp_path, "dcgan", steps=1)
    (tmp_path / "grids").mkdir()
    for main, example in ((sample_main, "samples.png"), (evaluate_main, "evaluation.json")):
        for given in (f"{tmp_path}/grids", f"{tmp_path}/new/"):
            capsys.readouterr()
            with pytest.raises(SystemExit) as info:
                run_cli(main, [str(run), "--out", given])
            assert info.value.code == 2
            err = capsys.readouterr().err.strip().splitlines()[-1]
            assert err.endswith(f"error: argument --out: {given} is a folder: name the file to write, e.g. "
                                f"{Path(given) / example}")
    assert not (tmp_path / "new").exists() and not any((tmp_path / "grids").iterdir())
    blocked = tmp_path / "notes.txt"
    blocked.write_text("a file where a folder would go")
    error = one_line_error(capsys, evaluate_main, str(run), "--out", str(blocked / "evaluation.json"))
    assert error == f"error: --out {blocked} cannot be created: {blocked} is a file, not a folder: choose another --out"


@pytest.mark.parametrize("kind", ["onnx", "checkpoint"])
def test_apply_skips_a_file_too_large_once_padded_and_goes_on(translator_file, tmp_path, capsys, kind):
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    write_image(photos / "a-small.png", rng.integers(0, 256, (8, 8, 3), np.uint8))
    write_image(photos / "b-odd.png", rng.integers(0, 256, (10, 10, 3), np.uint8))  # padded to 12 x 12: 144 pixels
    write_image(photos / "c-small.png", rng.integers(0, 256, (8, 8, 3), np.uint8))
    model = translator_file[1] if kind == "onnx" else translator_file[0]  # the same bound from PyTorch
    run_cli(apply_main, [str(model), "--input", str(photos), "--output", str(tmp_path / "out"), "--max-pixels", "120"])
    captured = capsys.readouterr()
    assert "translated 2 image(s)" in captured.out and "skipped 1 file(s)" in captured.out
    assert f"skipping {photos / 'b-odd.png'}: a 10x10 image (padded to 12x12" in captured.err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["a-small.png", "c-small.png"]
