"""A stopped dataset download goes on where it stopped: against a local server that answers
HTTP range requests as the authors' does (Apache: ETag, Last-Modified, If-Range), serving a
real zip of horse2zebra files, cut off or slowed on demand; never the network."""

import email.utils
import errno
import hashlib
import http.server
import io
import os
import signal
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_download import URL_ENV, _stopped_mid_download, zip_of_real_files
from translate.data import main as data_main
from translate.errors import DataError, StorageError
from translate.io.download import (
    CYCLEGAN,
    PIX2PIX,
    download_cyclegan_dataset,
    download_dataset,
    download_pix2pix_dataset,
    fetch_file,
)
from translate.io.fileio import write_failure
from translate.io.partial_download import holding, partial_download, strong_validator

MODIFIED = email.utils.formatdate(time.time() - 3600, usegmt=True)  # an hour before the server's Date
LAST = "Sat, 05 Dec 2026 10:00:00 GMT"  # a Last-Modified for the validator's rules alone
NAME = "apple2orange"  # a CycleGAN dataset without published sums, so a small zip of it is taken


@dataclass
class Site:
    """What the server serves and how: ``body`` under ``etag``, cut after ``cut_after`` bytes
    of a response, ``delay`` seconds between its 4 kB writes, ``ranges`` "honoured", "ignored"
    (the whole file sent), "refused" (416, as for a range beyond the file's end) or honoured
    "without If-Range" (whatever version the client holds), a strong
    ``etag`` or none (Last-Modified alone then); ``requests`` records each request's Range and
    If-Range and what was sent."""

    body: bytes
    etag: str | None = '"v1"'
    cut_after: int | None = None
    delay: float = 0.0
    ranges: str = "honoured"
    requests: list[dict] = field(default_factory=list)


@pytest.fixture
def site(tmp_path, monkeypatch, data_root):
    site = Site(zip_of_real_files(tmp_path / "a.zip", data_root, {"trainA": 3, "trainB": 3, "testA": 1, "testB": 1},
                                  top=NAME).read_bytes())

    class Ranged(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked, if_range = self.headers.get("Range"), self.headers.get("If-Range")
            start = 0
            if asked and site.ranges != "ignored" and (if_range in (site.etag, MODIFIED)
                                                       or site.ranges == "without If-Range"):
                start = int(asked.removeprefix("bytes=").removesuffix("-"))
                if site.ranges == "refused" or start >= len(site.body):
                    # Recorded before the answer: once the client has it, its next request may be recorded first.
                    site.requests.append({"range": asked, "if_range": if_range, "sent": 0})
                    self.send_error(416)
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(site.body) - 1}/{len(site.body)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(site.body) - start))
            if site.etag:
                self.send_header("ETag", site.etag)
            self.send_header("Last-Modified", MODIFIED)  # send_response has sent Date: now, well after it
            part = site.body[start:start + site.cut_after if site.cut_after is not None else None]
            site.requests.append({"range": asked, "if_range": if_range, "sent": len(part)})
            self.end_headers()
            try:
                for offset in range(0, len(part), 4096):
                    self.wfile.write(part[offset:offset + 4096])
                    self.wfile.flush()
                    time.sleep(site.delay)
            except OSError:  # the client stopped
                pass
            self.close_connection = True

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ranged)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv(URL_ENV, f"http://127.0.0.1:{httpd.server_port}/{{name}}.zip")
    yield site
    httpd.shutdown()


def _download(data: Path, site: Site) -> None:
    """Download NAME into ``data``: the archive unpacked is the server's file byte for byte
    (zipfile reads a zip behind stray bytes too, so the dataset alone would not show that)."""
    archives, partial = [], data / f".{NAME}.zip.partial"
    download_dataset(CYCLEGAN, NAME, data, check=lambda _: archives.append(partial.read_bytes()))
    assert archives == [site.body]
    _fetched_correctly(data, site)


def _fetched_correctly(data: Path, site: Site) -> None:
    """The dataset is the zip's members, byte for byte, and nothing else is left in ``data``."""
    assert sorted(path.name for path in data.iterdir()) == [NAME]
    with zipfile.ZipFile(io.BytesIO(site.body)) as archive:
        for member in archive.infolist():
            if not member.is_dir():
                assert (data / member.filename).read_bytes() == archive.read(member)


def test_a_download_cut_short_keeps_its_bytes_and_the_same_call_asks_only_for_the_rest(tmp_path, site, capsys):
    data, half = tmp_path / "data", len(site.body) // 2
    site.cut_after = half
    with pytest.raises(DataError) as info:
        download_cyclegan_dataset(NAME, data)
    progress = capsys.readouterr().err.splitlines()
    assert progress[-1].startswith(f"downloading {NAME}: ") and not progress[-1].endswith("done")  # it is not
    partial = data / f".{NAME}.zip.partial"
    assert str(info.value).startswith(
        f"the download of {os.environ[URL_ENV].format(name=NAME)} stopped after {half} of {len(site.body)} bytes: "
        f"the {half / 1e6:.1f} MB so far are kept in {partial}; the same command goes on from there; offline, copy")
    assert partial.read_bytes() == site.body[:half] and not (data / NAME).exists()
    data_main(["list", "--data", str(data)])  # says what is kept, and the command that goes on
    said = capsys.readouterr()
    assert said.out.splitlines()[-1] == (f"{NAME}: {data / NAME}: missing ({half / 1e6:.1f} MB of "
                                         f"{len(site.body) / 1e6:.1f} MB downloaded; python -m translate.data fetch "
                                         f"{NAME} --data {data} goes on from there)")

    site.cut_after = None
    _download(data, site)
    assert site.requests[-1] == {"range": f"bytes={half}-", "if_range": '"v1"', "sent": len(site.body) - half}


@pytest.mark.parametrize("change", ["the file changed", "no ranges", "ranges refused"])
def test_kept_bytes_that_cannot_be_gone_on_from_are_dropped_and_the_file_fetched_whole(tmp_path, site, data_root,
                                                                                       change):
    data = tmp_path / "data"
    site.cut_after = len(site.body) // 2
    with pytest.raises(DataError, match="so far are kept"):
        download_cyclegan_dataset(NAME, data)
    site.cut_after = None
    if change == "the file changed":  # a new archive on the server: If-Range no longer matches, the whole comes
        site.etag = '"v2"'
        site.body = zip_of_real_files(tmp_path / "b.zip", data_root, {"trainA": 2, "trainB": 4}, top=NAME).read_bytes()
    elif change == "no ranges":  # the server answers a range request with the whole file
        site.ranges = "ignored"
    else:  # 416: the whole is asked for again
        site.ranges = "refused"
    _download(data, site)
    assert site.requests[-1]["sent"] == len(site.body)
    if change == "ranges refused":
        assert site.requests[-2]["sent"] == 0 and site.requests[-1]["range"] is None


@pytest.mark.parametrize("elsewhere", ["another size", "another version"])
def test_a_range_answered_from_elsewhere_is_refused_and_nothing_kept(tmp_path, site, elsewhere):
    data = tmp_path / "data"
    site.cut_after = len(site.body) // 2
    with pytest.raises(DataError, match="so far are kept"):
        download_cyclegan_dataset(NAME, data)
    site.cut_after = None
    if elsewhere == "another size":  # same ETag, other bytes: its Content-Range's total differs from the first
        site.body = b"x" * 10 + site.body
    else:  # a server that honours Range but not If-Range, with a new file of the same size
        site.body, site.etag, site.ranges = site.body[::-1], '"v2"', "without If-Range"
    with pytest.raises(DataError, match=r"answered the request for its bytes from \d+ on with 'bytes \d+-\d+/\d+' \(of "
                                        r"\d+ bytes, version .*\), not the rest of its \d+ bytes: the partial download "
                                        "is removed; the same command starts it again"):
        download_cyclegan_dataset(NAME, data)
    assert list(data.iterdir()) == []


def test_a_second_download_of_the_same_dataset_is_refused_while_one_runs(tmp_path, site):
    data = tmp_path / "data"
    data.mkdir()
    url = os.environ[URL_ENV].format(name=NAME)
    running = holding(partial_download(data, f"{NAME}.zip", url), NAME)  # as a running download holds it
    with running, pytest.raises(DataError, match=f"another process is downloading {NAME} into {data}: wait for it"):
        download_cyclegan_dataset(NAME, data)
    assert site.requests == [] and list(data.iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_or_sigterm_keeps_the_bytes_and_the_same_command_finishes_the_download(tmp_path, site):
    data = tmp_path / "data"
    site.delay = 0.05
    argv = [sys.executable, "-m", "translate.data", "fetch", NAME, "--data", str(data)]
    partial = data / f".{NAME}.zip.partial"
    for signum, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        before = partial.stat().st_size if partial.exists() else 0
        said = _stopped_mid_download(argv, {URL_ENV: os.environ[URL_ENV]},
                                     lambda before=before: partial.exists() and partial.stat().st_size > before + 8192,
                                     signum, code)
        assert said.count("stopped while") == 1
        assert said.splitlines()[-1].startswith(f"stopped while downloading {NAME}: the ")
        assert said.splitlines()[-1].endswith(f" so far are kept in {partial}; the same command goes on from there")
        assert 0 < partial.stat().st_size < len(site.body)
        assert partial.read_bytes() == site.body[:partial.stat().st_size]
    site.delay = 0.0
    kept = partial.stat().st_size
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert site.requests[-1] == {"range": f"bytes={kept}-", "if_range": '"v1"', "sent": len(site.body) - kept}
    _fetched_correctly(data, site)


def test_a_server_with_only_last_modified_is_resumed_by_it(tmp_path, site):
    data, site.etag = tmp_path / "data", None
    site.cut_after = len(site.body) // 3
    with pytest.raises(DataError, match="so far are kept"):
        download_cyclegan_dataset(NAME, data)
    site.cut_after = None
    _download(data, site)
    assert site.requests[-1]["if_range"] == MODIFIED
    assert site.requests[-1]["sent"] == len(site.body) - len(site.body) // 3


@pytest.mark.parametrize(("headers", "validator"), [
    ({"ETag": '"abc"', "Last-Modified": LAST}, '"abc"'),
    ({"ETag": 'W/"abc"', "Last-Modified": LAST, "Date": "Sun, 06 Dec 2026 10:00:00 GMT"}, LAST),
    ({"Last-Modified": LAST, "Date": "Sat, 05 Dec 2026 10:00:00 GMT"}, None),  # could change within its second
    ({"Last-Modified": LAST}, None),  # no Date to tell
    ({"ETag": 'W/"abc"'}, None),
    ({}, None),
])
def test_only_a_strong_validator_lets_kept_bytes_be_gone_on_from(headers, validator):
    assert strong_validator(headers) == validator


def test_several_stops_each_keep_more_and_the_last_call_finishes(tmp_path, site):
    data, quarter = tmp_path / "data", len(site.body) // 4
    partial = data / f".{NAME}.zip.partial"
    site.cut_after = quarter  # of every response: the first and the resumed one alike
    for kept in (quarter, 2 * quarter):
        with pytest.raises(DataError, match="so far are kept"):
            download_cyclegan_dataset(NAME, data)
        assert partial.read_bytes() == site.body[:kept]
    site.cut_after, site.delay = None, 0.02
    with pytest.raises(DataError, match=r"was not done in time \(.*\): stopped; the .* so far are kept in"):
        download_cyclegan_dataset(NAME, data, deadline=0.1)  # the deadline keeps what came, too
    assert partial.stat().st_size > 2 * quarter
    site.delay = 0.0
    _download(data, site)
    assert site.requests[-1]["range"] == f"bytes={len(site.body) - site.requests[-1]['sent']}-"


def test_a_stop_after_the_last_byte_keeps_the_whole_archive_and_asks_nothing_again(tmp_path, site):
    data = tmp_path / "data"

    def stopped(unpacked: Path) -> None:  # Ctrl-C as the download checks what it unpacked
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_dataset(CYCLEGAN, NAME, data, check=stopped)
    assert (data / f".{NAME}.zip.partial").read_bytes() == site.body
    asked = len(site.requests)
    _download(data, site)
    assert len(site.requests) == asked  # unpacked from what was kept


def test_a_tar_gz_whose_checksum_fails_is_refused_and_not_kept(tmp_path, site, monkeypatch):
    """tarfile stops at the archive's last block and never reads the gzip trailer's CRC: the
    download reads to it, so bytes spliced wrongly into a pix2pix archive are caught."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in ("facades/train/1.jpg", "facades/test/1.jpg"):
            data = b"\xff\xd8 not really a photo"
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    body = bytearray(buffer.getvalue())
    body[-8] ^= 0xFF  # the CRC-32 of the uncompressed bytes
    site.body = bytes(body)
    monkeypatch.setenv(PIX2PIX.url_env, os.environ[URL_ENV].replace(".zip", ".tar.gz"))
    data_folder = tmp_path / "data"
    with pytest.raises(DataError, match=r"did not give a tar.gz archive \(CRC check failed"):
        download_pix2pix_dataset("facades", data_folder)
    assert list(data_folder.iterdir()) == []
    site.body = buffer.getvalue()  # the same archive, whole
    assert download_pix2pix_dataset("facades", data_folder) == data_folder / "facades"


def test_list_names_the_paired_fetch_for_a_stopped_pix2pix_download_and_kept_bytes_beside_a_dataset(tmp_path, site,
                                                                                                 monkeypatch, capsys):
    """facades is both papers' name: bytes of pix2pix's archive go on with --paired (named alone
    where both servers' archives were stopped: fetch --paired goes on from that one). Bytes left
    beside a dataset that is in place (copied in by hand meanwhile) are named, to be deleted."""
    monkeypatch.setenv(PIX2PIX.url_env, os.environ[URL_ENV].replace(".zip", ".tar.gz"))
    data = tmp_path / "data"
    site.cut_after = len(site.body) // 2
    with pytest.raises(DataError, match="so far are kept"):
        download_pix2pix_dataset("facades", data)
    paired = (f"facades: {data / 'facades'}: missing ({site.cut_after / 1e6:.1f} MB of {len(site.body) / 1e6:.1f} MB "
              f"downloaded; python -m translate.data fetch facades --paired --data {data} goes on from there)")
    data_main(["list", "--data", str(data)])
    assert capsys.readouterr().out.splitlines()[-1] == paired
    with pytest.raises(DataError, match="so far are kept"):  # the unpaired set's archive, stopped too
        download_cyclegan_dataset("facades", data)
    data_main(["list", "--data", str(data)])  # what fetch goes on from first, and only that
    assert capsys.readouterr().out.splitlines()[-1] == paired
    (data / "facades" / "train").mkdir(parents=True)  # copied in by hand
    (data / "facades" / "train" / "1.jpg").write_bytes(b"a drawing beside a photo")
    data_main(["list", "--data", str(data)])
    kept = [data / ".facades.tar.gz.partial", data / ".facades.zip.partial"]  # both servers' bytes
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"facades: {data / 'facades'}: ok (its folders; no published sums to check against); a stopped download "
        f"left {sum(path.stat().st_size for path in kept) / 1e6:.1f} MB in {kept[0]}, {kept[1]}: delete them")


def test_a_full_disk_while_unpacking_keeps_the_whole_archive_and_says_where(tmp_path, site):
    data = tmp_path / "data"

    def disk_full(unpacked: Path) -> None:
        raise write_failure(data, OSError(errno.ENOSPC, "No space left on device"))

    with pytest.raises(StorageError) as info:
        download_dataset(CYCLEGAN, NAME, data, check=disk_full)
    partial = data / f".{NAME}.zip.partial"
    assert str(info.value) == (f"could not write {data}: the disk is full (No space left on device): free some space "
                               f"there or choose a folder on another disk; the whole file "
                               f"({len(site.body) / 1e6:.1f} MB) is kept in {partial}; the same command goes on from "
                               "there")
    asked = len(site.requests)
    _download(data, site)
    assert len(site.requests) == asked


def test_a_zip_compressed_beyond_zipfile_is_refused_and_not_kept(tmp_path, site):
    """Deflate64 (method 9, as Windows writes large zips) is a one-line error, not a traceback
    that every later command would repeat from the kept archive."""
    body = bytearray(site.body)
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):  # local header, central directory
        at = body.index(signature)
        body[at + offset:at + offset + 2] = (9).to_bytes(2, "little")
    site.body = bytes(body)
    data = tmp_path / "data"
    with pytest.raises(DataError, match=r"did not give a zip archive \(.*compression method"):
        download_cyclegan_dataset(NAME, data)
    assert list(data.iterdir()) == []


def test_a_single_file_cut_short_keeps_its_bytes_and_the_same_call_fetches_the_rest(tmp_path, site):
    """MNIST's files and the FID network's archive go through fetch_file: kept and resumed the same way."""
    url = os.environ[URL_ENV].format(name="file")
    dest, half = tmp_path / "data" / "raw" / "file.gz", 50_000  # of about 250 kB
    partial = dest.with_name(f".{dest.name}.partial")
    site.cut_after = half
    with pytest.raises(DataError) as info:
        fetch_file(url, dest, hashlib.sha256(site.body).hexdigest(), 10**8)
    assert str(info.value).startswith(f"the download of {url} stopped after {half} of {len(site.body)} bytes: "
                                      f"the {half} bytes so far are kept in {partial}; the same command goes on "
                                      "from there")
    assert partial.read_bytes() == site.body[:half] and not dest.exists()

    site.cut_after = None
    assert fetch_file(url, dest, hashlib.sha256(site.body).hexdigest(), 10**8) == dest
    assert site.requests[-1] == {"range": f"bytes={half}-", "if_range": '"v1"', "sent": len(site.body) - half}
    assert dest.read_bytes() == site.body and sorted(dest.parent.iterdir()) == [dest]


def test_a_resumed_single_file_that_fails_its_sum_is_not_kept(tmp_path, site):
    """A server that sends the rest of another file under the same ETag: the spliced bytes fail
    the published sum, and nothing is kept to go on from."""
    url = os.environ[URL_ENV].format(name="file")
    dest, wanted = tmp_path / "data" / "raw" / "file.gz", hashlib.sha256(site.body).hexdigest()
    site.cut_after = 1000
    with pytest.raises(DataError, match="so far are kept"):
        fetch_file(url, dest, wanted, 10**8)
    site.cut_after, site.body = None, site.body[:1000] + bytes(len(site.body) - 1000)  # the same size, other bytes
    with pytest.raises(DataError, match=f"has sha256 [0-9a-f]{{64}}, not the published {wanted}: not kept"):
        fetch_file(url, dest, wanted, 10**8)
    assert site.requests[-1]["range"] == "bytes=1000-"
    assert list(dest.parent.iterdir()) == []  # the folder this test's first call made stays, empty


def test_a_zip_members_fetch_resumes_and_a_damaged_zip_keeps_nothing(tmp_path, site):
    """The FID network comes as one member of a zip: resumed as any file; a zip whose deflate
    stream cannot be read is dropped whole (kept, every later call would read it again), and
    the next call fetches it afresh. A file another fetch put in place meanwhile is taken."""
    content, member = bytes(range(256)) * 800, "pkg/default_1.pt"
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, content)
    site.body = packed.getvalue()
    url, dest, wanted = os.environ[URL_ENV].format(name="file"), tmp_path / "data" / "fid" / "net.pt", \
        hashlib.sha256(content).hexdigest()
    site.cut_after = 600
    with pytest.raises(DataError, match="the 600 bytes so far are kept in"):
        fetch_file(url, dest, wanted, 10**8, member=member)
    site.cut_after = None
    assert fetch_file(url, dest, wanted, 10**8, member=member) == dest
    assert dest.read_bytes() == content and site.requests[-1]["range"] == "bytes=600-"
    assert sorted(dest.parent.iterdir()) == [dest]

    asked = len(site.requests)
    assert fetch_file(url, dest, wanted, 10**8, member=member) == dest and len(site.requests) == asked

    dest.unlink()
    damaged = bytearray(site.body)
    damaged[100:108] = b"\xff" * 8  # inside the deflate stream: zlib cannot decode it
    site.body, whole = bytes(damaged), site.body
    with pytest.raises(DataError, match=r"is not a zip archive that can be read \(Error -3 while decompressing"):
        fetch_file(url, dest, wanted, 10**8, member=member)
    assert list(dest.parent.iterdir()) == []
    site.body = whole
    assert fetch_file(url, dest, wanted, 10**8, member=member) == dest
    assert site.requests[-1]["range"] is None and dest.read_bytes() == content


@pytest.mark.parametrize("name", ["mnist", "fid"])
def test_list_names_the_kept_bytes_of_a_stopped_single_file_and_bytes_left_beside_one_in_place(tmp_path, site,
                                                                                               monkeypatch, capsys,
                                                                                               name):
    """MNIST's files and the FID network's archive are kept as datasets' archives are, and
    ``list`` says so: how much, of which file, and the command that goes on; beside a file in
    place (here copied in by hand, not the published one), that the bytes can go, even while
    other MNIST files are missing (fetch would not go on from them)."""
    from translate.data import FID_FILE
    from translate.datasets.mnist import MNIST_RAW

    monkeypatch.setenv("TRANSLATE_MNIST_URL", os.environ[URL_ENV].format(name="{file}"))
    monkeypatch.setenv("TRANSLATE_FID_URL", os.environ[URL_ENV].format(name="fid"))
    data, half = tmp_path / "data", 120_000  # of about 250 kB
    site.cut_after = half
    with pytest.raises(DataError, match="so far are kept"):
        data_main(["fetch", name, "--data", str(data)])
    first = data / MNIST_RAW / "train-images-idx3-ubyte.gz" if name == "mnist" else data / FID_FILE
    partial = first.with_name(f".{first.name}.partial")
    assert partial.stat().st_size == half

    def listed() -> str:
        capsys.readouterr()
        data_main(["list", "--data", str(data)])
        return next(line for line in capsys.readouterr().out.splitlines() if line.startswith(f"{name}: "))

    which = " of train-images-idx3-ubyte.gz" if name == "mnist" else ""
    assert listed() == (f"{name}: {first.parent if name == 'mnist' else first}: missing ({half / 1e6:.1f} MB of "
                        f"{len(site.body) / 1e6:.1f} MB{which} downloaded; python -m translate.data fetch {name} "
                        f"--data {data} goes on from there)")
    left = f"a stopped download left {half / 1e6:.1f} MB in {partial}: delete it"
    if name == "mnist":  # that file copied in by hand, uncompressed: the others still missing
        (data / MNIST_RAW / "train-images-idx3-ubyte").write_bytes(b"not checked: no published sums")
        assert listed() == f"mnist: {first.parent}: missing ({left})"
        for stem in ("train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
            (data / MNIST_RAW / stem).write_bytes(b"not checked: no published sums")
        assert listed().endswith(f": ok (uncompressed files, which have no published sums to check against); {left}")
    else:
        first.write_bytes(b"another network")
        assert listed() == f"fid: {first}: {first.name} differ from the published files; {left}"
