"""Outputs never overwrite inputs: export refuses to write into the model it exports or a
name that is not .onnx; apply refuses output folders that are, hold or lie inside the
input, inputs that link into the output, and existing files unless --overwrite, and skips
the outputs of an earlier apply found inside its input."""

from __future__ import annotations

import shutil

import pytest

from translate.apply import main as apply_main
from translate.cli import run_cli
from translate.export import main as export_main
from translate.training.checkpoint import find_checkpoint

from .cli_errors import one_line_error


@pytest.fixture
def horses(tmp_path, data_root):
    folder = tmp_path / "photos" / "horses"
    folder.mkdir(parents=True)
    for file in sorted((data_root / "horse2zebra" / "testA").iterdir())[:2]:
        shutil.copy(file, folder / file.name)
    return folder


@pytest.mark.parametrize("target", ["model.safetensors", "config.json", "horse2zebra.onnx"])
def test_export_refuses_to_write_into_the_model_it_exports(translator_file, capsys, target):
    run = translator_file[0]
    checkpoint = find_checkpoint(run)
    before = {p.name: p.read_bytes() for p in checkpoint.iterdir()}
    for folder in (checkpoint, run):
        error = one_line_error(capsys, export_main, str(run), "--out", str(folder / target))
        assert "lies inside the model it exports" in error or "must be a .onnx file" in error
    assert {p.name: p.read_bytes() for p in checkpoint.iterdir()} == before


def test_export_writes_only_onnx_files(translator_file, tmp_path, capsys):
    error = one_line_error(capsys, export_main, str(translator_file[0]), "--out", str(tmp_path / "model.pt"))
    assert "must be a .onnx file" in error and not (tmp_path / "model.pt").exists()


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
    run_cli(apply_main, [str(translator_file[0]), "--input", str(horses), "--output", str(out), "--overwrite"])
    assert {p.name for p in out.glob("*.jpg")} == set(first)


def test_apply_refuses_to_write_onto_a_single_input_file(translator_file, horses, capsys):
    photo = next(horses.iterdir())
    error = one_line_error(capsys, apply_main, str(translator_file[0]), "--input", str(photo), "--output",
                           str(horses), "--overwrite")
    assert f"would write onto the input {photo}" in error


def test_an_earlier_output_inside_the_input_is_skipped(translator_file, horses, tmp_path, capsys):
    earlier = tmp_path / "photos" / "zebras"
    run_cli(apply_main, [str(translator_file[0]), "--input", str(horses), "--output", str(earlier)])
    capsys.readouterr()
    run_cli(apply_main, [str(translator_file[0]), "--input", str(tmp_path / "photos"), "--output",
                         str(tmp_path / "again")])
    assert "translated 2 image(s)" in capsys.readouterr().out  # the two horses, not the two earlier zebras
    assert sorted(p.parent.name for p in (tmp_path / "again").rglob("*.jpg")) == ["horses", "horses"]
