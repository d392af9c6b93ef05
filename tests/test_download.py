"""--download against a local HTTP server that serves the real horse2zebra files as the
authors' server does (one zip, a top folder named after the dataset); never the network."""

import http.server
import os
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli_errors import one_line_error
from tests.conftest import REPO
from tests.cyclegan_data import TINY
from tests.file_limits import file_size_limit
from tests.local_server import serving
from translate.cli import run_cli
from translate.data import main as data_main
from translate.errors import DataError
from translate.io.download import CYCLEGAN, download_cyclegan_dataset, download_dataset
from translate.modeling.checkpoint import read_checkpoint
from translate.train import main as train_main

URL_ENV = CYCLEGAN.url_env  # the variable that points the downloader at another server


def zip_of_real_files(path: Path, data_root: Path, names: dict[str, int], top: str = "horse2zebra") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for split, count in names.items():
            for file in sorted((data_root / "horse2zebra" / split).iterdir())[:count]:
                archive.write(file, f"{top}/{split}/{file.name}")
    return path


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serves tmp_path/site over HTTP on localhost; URL_ENV points the downloader at it."""
    site = tmp_path / "site"
    (site / "datasets").mkdir(parents=True)
    with serving(site) as port:
        monkeypatch.setenv(URL_ENV, f"http://127.0.0.1:{port}/datasets/{{name}}.zip")
        yield site / "datasets"


def test_train_download_fetches_unpacks_and_trains(tmp_path, server, data_root, capsys):
    # Served as apple2orange (a dataset without published sums: a few real photos pass for it);
    # named the other way round, as --domains orange apple, it is still the one fetched.
    zip_of_real_files(server / "apple2orange.zip", data_root, {"trainA": 3, "trainB": 3, "testA": 1, "testB": 1},
                      top="apple2orange")
    data, run = tmp_path / "data", tmp_path / "run"
    run_cli(train_main, ["cyclegan", "--domains", "orange", "apple", "--data", str(data), "--download",
                         "--out", str(run), "--max-steps", "2", *TINY])
    assert sorted(p.name for p in (data / "apple2orange").iterdir()) == ["testA", "testB", "trainA", "trainB"]
    expected = sorted(p.name for p in (data_root / "horse2zebra" / "trainA").iterdir())[:3]
    assert sorted(p.name for p in (data / "apple2orange" / "trainA").iterdir()) == expected
    assert (data / "apple2orange" / "trainA" / expected[0]).read_bytes() == (
        data_root / "horse2zebra" / "trainA" / expected[0]).read_bytes()
    assert read_checkpoint(run).path.name == "step-00000002"
    assert [p.name for p in data.iterdir()] == ["apple2orange"]  # no temporary files left
    megabytes = (server / "apple2orange.zip").stat().st_size / 1e6
    err = capsys.readouterr().err  # off a terminal: lines at the start and the end, in MB
    assert f"downloading apple2orange: 0.0/{megabytes:.1f} MB (0%), 0 s\n" in err
    assert re.search(rf"downloading apple2orange: {megabytes:.1f}/{megabytes:.1f} MB \(100%\), \d+ s, done\n", err)


def test_train_download_checks_horse2zebra_against_its_published_sums(tmp_path, server, data_root, capsys):
    """As translate.data fetch does: a horse2zebra that is not the published one is not kept."""
    zip_of_real_files(server / "horse2zebra.zip", data_root, {"trainA": 3, "trainB": 3, "testA": 1, "testB": 1})
    data = tmp_path / "data"
    with pytest.raises(SystemExit) as info:
        run_cli(train_main, ["cyclegan", "--domains", "zebra", "horse", "--data", str(data), "--download", "--out",
                             str(tmp_path / "run"), *TINY])
    assert info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]  # after the download's own lines
    assert error.startswith("error: the downloaded horse2zebra differs from the published set (8 images): removed")
    assert list(data.iterdir()) == []


def test_a_missing_dataset_without_download_names_the_path_and_the_flag(tmp_path, capsys):
    argv = ["cyclegan", "--domains", "horse", "zebra", "--data", str(tmp_path), "--out", str(tmp_path / "r"), *TINY]
    message = one_line_error(capsys, train_main, *argv)
    assert str(tmp_path / "horse2zebra") in message and "--download" in message


def test_a_server_without_the_file_is_a_clear_error_and_leaves_nothing(tmp_path, server):
    with pytest.raises(DataError, match=r"HTTP 404.*offline, copy the dataset to .*horse2zebra"):
        download_cyclegan_dataset("horse2zebra", tmp_path / "data")
    assert list((tmp_path / "data").iterdir()) == []


def test_a_dataset_another_fetch_finished_first_is_taken_as_fetched(tmp_path, server, data_root, capsys):
    zip_of_real_files(server / "apple2orange.zip", data_root, {"trainA": 1, "trainB": 1, "testA": 1, "testB": 1},
                      top="apple2orange")
    data, winner = tmp_path / "data", []

    def other_fetch_finishes(unpacked: Path) -> None:  # while this one checks, another renames its copy in
        os.rename(unpacked, data / "apple2orange")
        unpacked.mkdir()
        (unpacked / "trainA").mkdir()
        winner.append(sorted(p.name for p in (data / "apple2orange").iterdir()))

    assert download_dataset(CYCLEGAN, "apple2orange", data, check=other_fetch_finishes) == data / "apple2orange"
    assert winner == [["testA", "testB", "trainA", "trainB"]]
    assert sorted(p.name for p in (data / "apple2orange").iterdir()) == winner[0]  # the finished copy stays
    assert "apple2orange: another process fetched it into" in capsys.readouterr().err
    assert list(data.iterdir()) == [data / "apple2orange"]  # and this one's temporary folder is gone


def test_no_network_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(URL_ENV, "http://127.0.0.1:9/{name}.zip")  # the discard port: connection refused
    with pytest.raises(DataError, match=r"could not download http://127.0.0.1:9/horse2zebra.zip .*offline"):
        download_cyclegan_dataset("horse2zebra", tmp_path / "data")


@pytest.mark.parametrize(
    ("member", "message"),
    [("../evil.txt", "outside the folder"), ("/etc/evil.txt", "outside the folder"),
     ("other/trainA/x.jpg", "outside the folder")],
)
def test_archives_that_would_write_outside_their_folder_are_refused(tmp_path, server, data_root, member, message):
    archive = zip_of_real_files(server / "horse2zebra.zip", data_root, {"trainA": 1, "trainB": 1})
    with zipfile.ZipFile(archive, "a") as zipped:
        zipped.writestr(member, b"x")
    with pytest.raises(DataError, match=message):
        download_cyclegan_dataset("horse2zebra", tmp_path / "data")
    assert list((tmp_path / "data").iterdir()) == [] and not (tmp_path / "evil.txt").exists()


def test_not_a_zip_or_not_a_dataset_is_refused(tmp_path, server, data_root):
    (server / "horse2zebra.zip").write_text("<html>maintenance</html>")
    with pytest.raises(DataError, match="did not give a zip archive"):
        download_cyclegan_dataset("horse2zebra", tmp_path / "data")
    zip_of_real_files(server / "horse2zebra.zip", data_root, {"testA": 1})
    with pytest.raises(DataError, match="no horse2zebra/trainA and horse2zebra/trainB"):
        download_cyclegan_dataset("horse2zebra", tmp_path / "data")


def test_an_archive_that_would_unpack_too_large_is_refused_before_unpacking(tmp_path, server, data_root,
                                                                          monkeypatch):
    zip_of_real_files(server / "horse2zebra.zip", data_root, {"trainA": 2, "trainB": 2, "testA": 1, "testB": 1})
    monkeypatch.setattr("translate.io.archives.MAX_UNPACKED_BYTES", 10)
    data = tmp_path / "data"
    with pytest.raises(DataError, match=r"horse2zebra.zip would unpack to 0.0 GB, more than any CycleGAN dataset"):
        download_cyclegan_dataset("horse2zebra", data)
    assert list(data.iterdir()) == []


def test_unknown_names_and_existing_folders_are_refused(tmp_path):
    with pytest.raises(DataError, match="not one of the CycleGAN datasets"):
        download_cyclegan_dataset("cat2dog", tmp_path)
    (tmp_path / "horse2zebra").mkdir()
    with pytest.raises(DataError, match="already exists"):
        download_cyclegan_dataset("horse2zebra", tmp_path)


def test_a_file_given_as_the_data_folder_is_named_before_anything_is_fetched(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a folder")
    err = one_line_error(capsys, data_main, "fetch", "horse2zebra", "--data", str(notes))
    assert err == f"error: --data {notes} cannot be created: {notes} is a file, not a folder: choose another --data"
    err = one_line_error(capsys, train_main, "dcgan", "--download", "--data", str(notes), "--out", str(tmp_path / "r"))
    assert err.startswith(f"error: could not write {notes}/mnist/MNIST/raw: a file is in the way of a folder")
    assert notes.read_text() == "not a folder"


@pytest.fixture
def misbehaving(monkeypatch):
    """A local server that misbehaves as its path says: ``endless`` streams without end and
    without a length, ``huge`` announces 100 GB, ``drip`` sends a byte every 0.1 s, ``badlength``
    sends ``Content-Length: abc``, ``short`` closes after 10 kB of the 100 kB it announced,
    ``missing`` answers 404. Returns a function that points the
    downloader at one of them (and gives that URL pattern)."""

    class Misbehaving(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            mode = self.path.split("/")[1]
            if mode == "missing":
                self.send_error(404)
                return
            self.send_response(200)
            length = {"huge": str(100 * 10**9), "badlength": "abc", "short": "100000"}.get(mode)
            if length:
                self.send_header("Content-Length", length)
            self.end_headers()
            if mode == "short":  # a tenth of what it announced, then the connection closes
                self.wfile.write(b"x" * 10_000)
                self.close_connection = True
                return
            try:
                for _ in range(10**6 if mode == "endless" else 600):
                    self.wfile.write(b"x" if mode == "drip" else b"x" * 65536)
                    self.wfile.flush()
                    time.sleep(0.1 if mode == "drip" else 0)
            except OSError:  # the client gave up
                pass

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    def point_at(mode: str) -> str:
        url = f"http://127.0.0.1:{httpd.server_port}/{mode}/{{name}}.zip"
        monkeypatch.setenv(URL_ENV, url)
        return url

    yield point_at
    httpd.shutdown()


@pytest.mark.slow
def test_a_download_is_bounded_in_bytes_and_time_and_leaves_nothing(tmp_path, misbehaving):
    data = tmp_path / "data"
    misbehaving("endless")
    with pytest.raises(DataError, match=r"sent more than the 1 MB that horse2zebra can be: stopped"):
        download_cyclegan_dataset("horse2zebra", data, max_bytes=10**6)
    misbehaving("huge")
    with pytest.raises(DataError, match=r"offers 100000 MB, more than the 512 MB that horse2zebra can be"):
        download_cyclegan_dataset("horse2zebra", data)
    misbehaving("drip")  # each byte comes within the timeout: only the deadline can stop it
    with pytest.raises(DataError, match=r"was not done in time"):
        download_cyclegan_dataset("horse2zebra", data, timeout=5, deadline=1)
    assert list(data.iterdir()) == []


def test_a_download_cut_short_is_named_and_leaves_nothing(tmp_path, misbehaving):
    url = misbehaving("short").format(name="horse2zebra")
    data = tmp_path / "data"
    with pytest.raises(DataError) as info:
        download_cyclegan_dataset("horse2zebra", data)
    assert str(info.value) == (f"the download of {url} stopped after 10000 of 100000 bytes: try again; offline, copy "
                               f"the dataset to {data}/horse2zebra/{{trainA,trainB,testA,testB}} and point --data "
                               "(or TRANSLATE_DATA) at its parent")
    assert list(data.iterdir()) == []


def test_a_length_that_is_not_a_number_is_a_one_line_error(tmp_path, misbehaving, capsys):
    misbehaving("badlength")
    argv = ["cyclegan", "--domains", "horse", "zebra", "--data", str(tmp_path / "data"), "--download", "--out",
            str(tmp_path / "run"), *TINY]
    assert "sent an invalid Content-Length header ('abc')" in one_line_error(capsys, train_main, *argv)
    assert list((tmp_path / "data").iterdir()) == []


def _stopped_mid_download(argv: list[str], env: dict[str, str], downloading: Callable[[], bool], signum: int,
                          code: int) -> str:
    """Run ``argv``, send ``signum`` once ``downloading()`` says it is, check its exit ``code``
    and that it printed no traceback; its stderr. The child takes Ctrl-C's SIGINT even where
    the test runner ignores it (an ignored signal is inherited)."""
    process = subprocess.Popen(argv, env={**os.environ, **env, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE,
                               text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not downloading():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signum)
    assert process.wait(timeout=60) == code
    said = process.stderr.read()
    process.stderr.close()
    assert "Traceback" not in said
    return said


@pytest.mark.slow
def test_a_stopped_download_leaves_no_temporary_files(tmp_path, misbehaving):
    url = misbehaving("drip")
    data = tmp_path / "data"
    argv = [sys.executable, "-m", "translate.train", "cyclegan", "--domains", "horse", "zebra", "--data", str(data),
            "--download", "--out", str(tmp_path / "run"), *TINY]
    exit_codes = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -signal.SIGKILL}  # the shell's for two
    for signum, code in exit_codes.items():
        said = _stopped_mid_download(argv, {URL_ENV: url}, lambda: any(data.glob(".horse2zebra.translate-*")),
                                     signum, code)
        if signum != signal.SIGKILL:
            assert list(data.iterdir()) == [] and not (tmp_path / "run").exists()
            assert said.splitlines()[-1] == ("stopped while downloading horse2zebra: nothing of it is kept; the same "
                                             "command fetches it again")
            assert said.count("stopped while") == 1
    # SIGKILL can remove nothing: the next download does (the temporary folder, and the empty start
    # of an archive that could not be resumed, as this server names no version of its file)
    assert sorted(path.name[:22] for path in data.iterdir()) == [".horse2zebra.translate", ".horse2zebra.zip.parti"]
    misbehaving("missing")
    with pytest.raises(DataError, match="HTTP 404"):
        download_cyclegan_dataset("horse2zebra", data)
    assert list(data.iterdir()) == []


@pytest.mark.slow
def test_a_stopped_file_download_names_its_file_once_and_leaves_no_folders(tmp_path, misbehaving):
    """MNIST's four files each go through fetch_file: Ctrl-C in the first says so once, for that
    file, and leaves neither it nor the folders made for it (the drip server's bytes cannot be
    resumed: no validator)."""
    mnist_url = misbehaving("drip").replace("{name}.zip", "{file}")
    data = tmp_path / "data"
    data.mkdir()
    begun: list[float] = []  # when its bytes' file appeared: half a second on, it waits on the server

    def downloading() -> bool:
        if not begun and any(data.glob("mnist/MNIST/raw/.*.partial")):
            begun.append(time.monotonic())
        return bool(begun) and time.monotonic() > begun[0] + 0.5

    said = _stopped_mid_download([sys.executable, "-m", "translate.data", "fetch", "mnist", "--data", str(data)],
                                 {"TRANSLATE_MNIST_URL": mnist_url}, downloading, signal.SIGINT, 130)
    assert said.count("stopped while") == 1
    assert said.splitlines()[-1].startswith("stopped while downloading train-images-idx3-ubyte.gz: nothing of it")
    assert list(data.iterdir()) == []


def test_a_disk_that_fills_during_a_download_names_the_data_folder_and_the_fix(tmp_path, misbehaving):
    misbehaving("endless")
    data = tmp_path / "data"

    done = subprocess.run([sys.executable, "-m", "translate.data", "fetch", "horse2zebra", "--data", str(data)],
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=file_size_limit(200_000),  # a full disk for this download
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines()[-1] == (f"error: could not write {data}: the file is larger than this process may "
                                            "write (File too large): raise the limit (ulimit -f) or the quota")
    assert list(data.iterdir()) == []  # the temporary folder is gone
