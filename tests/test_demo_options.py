"""python demo/app.py's options: a wrong one is one line naming it, before any model loads or
Gradio starts (a port out of range, a zero concurrency and a busy port were tracebacks)."""

import socket

import pytest

from demo.app import build_parser, main
from demo.options import check_port_free
from tests.cli_errors import argparse_error


@pytest.mark.parametrize(("argv", "message"), [
    (["--port", "99999"], "argument --port: must be a port number, 1 to 65535, got 99999"),
    (["--port", "http"], "argument --port: must be a port number, 1 to 65535, got http"),
    (["--concurrency", "0"], "argument --concurrency: must be a positive integer, got 0"),
    (["--queue-size", "-1"], "argument --queue-size: must be a positive integer, got -1"),
    (["--max-side", "big"], "argument --max-side: must be a positive integer, got big"),
    (["--max-side", "3000"], "argument --max-side: must be at most 2048, got 3000: the models translate at most "
                             "4,194,304 pixels, a 2048 px square"),
    (["--share", "maybe"], "argument --share: expected true or false, got 'maybe'"),
    (["--max-upload", "lots"], "argument --max-upload: not a size of at least one byte: 'lots' (use e.g. 25mb)"),
    (["--max-upload", "0mb"], "argument --max-upload: not a size of at least one byte: '0mb' (use e.g. 25mb)"),
])
def test_a_wrong_option_is_named_by_argparse(argv, message, capsys):
    assert argparse_error(capsys, build_parser().parse_args, *argv) == f"python demo/app.py: error: {message}"


@pytest.mark.parametrize(("argv", "share"), [([], False), (["--share"], True), (["--share", "false"], False),
                                            (["--share", "yes"], True)])
def test_share_is_a_switch_that_also_takes_a_value(argv, share):
    assert build_parser().parse_args(argv).share is share


def test_an_exports_folder_that_is_not_there_is_refused(tmp_path, capsys):
    missing = tmp_path / "exprots"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--exports", str(missing)])
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"python demo/app.py: error: argument --exports: {missing} is not a folder: name the folder of the ONNX "
        "files (the repository's exports/ by default)")
    assert build_parser().parse_args(["--exports", str(tmp_path)]).exports == tmp_path


def test_a_port_another_program_holds_is_one_line_before_anything_loads(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as held:
        port = held.getsockname()[1]
        with pytest.raises(SystemExit) as info:
            main(["--port", str(port), "--exports", str(tmp_path)])
        assert str(info.value).startswith(f"error: cannot listen on 127.0.0.1:{port} (Address already in use): "
                                          "another program may hold the port; pass --port with a free one")
    check_port_free("127.0.0.1", port)  # free again: no error


@pytest.mark.parametrize(("text", "size"), [("25mb", 25 * 2**20), ("512KB", 512 * 2**10), ("1.5mb", 3 * 2**19),
                                            ("1gb", 2**30), ("10", 10), ("10 b", 10)])
def test_max_upload_takes_a_size_in_bytes_or_binary_units(text, size):
    assert build_parser().parse_args(["--max-upload", text]).max_upload == size


def test_the_default_upload_limit_is_25_mib():
    assert build_parser().parse_args([]).max_upload == 25 * 2**20
