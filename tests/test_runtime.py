import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import onnxruntime
import pytest
import torch

from translate.errors import DataError, InputError, ModelFileError
from translate.runtime import Sampler, Translator

from .conftest import REPO


def test_runtime_works_where_torch_cannot_be_imported(onnx_files):
    script = textwrap.dedent(f"""
        import sys
        sys.modules["torch"] = None  # any 'import torch' now raises ImportError
        from translate.runtime import Sampler
        images = Sampler({str(onnx_files["cdcgan"])!r}).sample(4, labels=3, seed=1)
        assert images.shape == (4, 28, 28, 1) and images.dtype.name == "uint8", images.shape
        assert "torch" not in [m for m in sys.modules if sys.modules[m] is not None]
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_sampler_is_seeded_and_follows_labels(onnx_files):
    sampler = Sampler(onnx_files["cdcgan"], threads=1)
    a = sampler.sample(12, seed=1)
    assert a.shape == (12, 28, 28, 1) and a.dtype == np.uint8
    assert np.array_equal(a, sampler.sample(12, seed=1))
    assert not np.array_equal(a, sampler.sample(12, seed=2))
    sevens = sampler.sample(12, labels=7, seed=1)
    assert np.array_equal(a[7], sevens[7]) and not np.array_equal(a[0], sevens[0])
    mixed, fours = sampler.sample(3, labels=[4, 5, 6], seed=1), sampler.sample(3, labels=4, seed=1)
    assert np.array_equal(mixed[0], fours[0]) and not np.array_equal(mixed[1], fours[1])
    assert sampler.sample(300, labels=1, batch_size=128).shape == (300, 28, 28, 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "positive integer"),
        ({"n": 2**62}, "max_samples=1000000 per call"),  # refused before allocating, not killed for memory
        ({"n": 2, "labels": 10}, r"0\.\.9"),
        ({"n": 2, "labels": [1, 2, 3]}, "one integer or 2 integers"),
        ({"n": 2, "labels": [0.5, 1.0]}, "one integer or 2 integers"),
    ],
)
def test_sampler_rejects_bad_arguments(onnx_files, kwargs, message):
    with pytest.raises(InputError, match=message):
        Sampler(onnx_files["cdcgan"]).sample(**kwargs)


def test_sampler_bound_is_inclusive_and_settable(onnx_files):
    sampler = Sampler(onnx_files["dcgan"], threads=1, max_samples=3)
    assert sampler.sample(3).shape == (3, 28, 28, 1)
    with pytest.raises(InputError, match="n=4 exceeds max_samples=3"):
        sampler.codes(4)


def test_generate_takes_explicit_codes_and_sample_is_generate_of_codes(onnx_files):
    sampler = Sampler(onnx_files["cdcgan"], threads=1)
    z = sampler.codes(5, seed=3)
    assert z.shape == (5, sampler.z_dim) and z.dtype == np.float32
    assert np.array_equal(sampler.generate(z, labels=2), sampler.sample(5, labels=2, seed=3))
    assert np.array_equal(sampler.generate(z.astype(np.float64))[1:], sampler.generate(z[1:], labels=[1, 2, 3, 4]))
    for bad in (z[0], z[:, :-1], z.astype(np.int64), np.full_like(z, np.nan)):
        with pytest.raises(InputError, match="z "):
            sampler.generate(bad)


def test_unconditional_sampler_refuses_labels(onnx_files):
    with pytest.raises(InputError, match="unconditional"):
        Sampler(onnx_files["dcgan"]).sample(2, labels=1)


TRANSLATOR_METADATA = {"translate.family": "cyclegan", "translate.channels": "3", "translate.pad_multiple": "4",
                       "translate.min_size": "8"}


def onnx_model(path, metadata=None, input_name="image", any_size=True, module=None, channels=3):
    """A real ONNX file (a 1x1 convolution, or ``module``) with the given input name and metadata."""
    import onnx

    axes = {input_name: {0: "batch", 2: "height", 3: "width"}} if any_size else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        example = (torch.randn(1, channels, 8, 8),)
        torch.onnx.export(module or torch.nn.Conv2d(channels, channels, 1), example, str(path),
                          input_names=[input_name], dynamic_axes=axes, dynamo=False)
    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, metadata or {})
    onnx.save(model, str(path))
    return path


def _written(path, data: bytes):
    path.write_bytes(data)
    return path


def _folder(path):
    path.mkdir()
    return path


BAD_FILES = {
    "missing": (Sampler, lambda path, files: path, "does not exist: create it with python -m translate.export"),
    "a folder": (Sampler, lambda path, files: _folder(path), "is not a file"),
    "truncated": (Sampler, lambda path, files: _written(path, files["dcgan"].read_bytes()[:5000]),
                  "is not a loadable ONNX model"),
    "empty": (Translator, lambda path, files: _written(path, b""), "is not a loadable ONNX model"),
    "not ONNX": (Translator, lambda path, files: _written(path, b"horse,zebra\n1,2\n"), "is not a loadable ONNX model"),
    "no metadata": (Translator, lambda path, files: onnx_model(path), "has no translate metadata"),
    "another family": (Translator, lambda path, files: files["dcgan"], "holds a dcgan model, which draws images "
                       "from codes: open it with Sampler"),
    "incomplete metadata": (Translator, lambda path, files: onnx_model(path, {"translate.family": "cyclegan"}),
                            "has incomplete translate metadata"),
    "wrong input name": (Translator, lambda path, files: onnx_model(path, TRANSLATOR_METADATA, "pixels"),
                         r"has inputs \['pixels'\], expected \['image'\]: re-export it"),
    "wrong input for a sampler": (Sampler, lambda path, files: onnx_model(
        path, {**TRANSLATOR_METADATA, "translate.family": "dcgan", "translate.z_dim": "16"}, "noise"),
        r"has inputs \['noise'\], expected \['z'\]"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_model_files_raise_our_error_naming_the_file(onnx_files, tmp_path, case):
    kind, make, message = BAD_FILES[case]
    path = make(tmp_path / "model.onnx", onnx_files)
    with pytest.raises(ModelFileError, match=message) as info:
        kind(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_graph_that_breaks_its_metadata_promise_fails_with_our_error(tmp_path):
    path = onnx_model(tmp_path / "fixed.onnx", TRANSLATOR_METADATA, any_size=False)  # takes 8 x 8 only
    translator = Translator(path)
    assert translator.translate(np.zeros((8, 8, 3), np.uint8)).shape == (8, 8, 3)
    with pytest.raises(ModelFileError, match=f"ONNX Runtime could not run {path} on inputs .*re-export it"):
        translator.translate(np.zeros((12, 16, 3), np.uint8))


class Flattened(torch.nn.Module):
    """Returns N x H x W: one rank fewer than an image batch."""

    def forward(self, x):
        return x.mean(1)


@pytest.mark.parametrize("module", [torch.nn.Conv2d(3, 3, 1, stride=2), torch.nn.Conv2d(3, 1, 1), Flattened()],
                         ids=["half the size", "one channel of three", "rank 3"])
def test_a_graph_whose_output_breaks_its_metadata_promise_fails_with_our_error(tmp_path, module):
    path = onnx_model(tmp_path / "broken.onnx", TRANSLATOR_METADATA, module=module)
    with pytest.raises(ModelFileError, match=f"{path} returned float32 .* for an input of shape \\(1, 3, 16, 16\\), "
                       r"where its metadata promises float \(1, 3, 16, 16\): re-export it"):
        Translator(path).translate(np.zeros((16, 16, 3), np.uint8))


def test_unknown_device_is_refused(onnx_files):
    with pytest.raises(InputError, match="unknown device"):
        Sampler(onnx_files["dcgan"], device="tpu")


def test_cuda_without_onnxruntime_gpu_names_the_package(onnx_files):
    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has the CUDA provider")
    with pytest.raises(InputError, match="install onnxruntime-gpu or use device='cpu'"):
        Sampler(onnx_files["dcgan"], device="cuda")


def test_threads_reach_onnx_runtime_and_must_be_a_positive_integer(onnx_files):
    sampler = Sampler(onnx_files["dcgan"], threads=1)
    assert sampler.session.get_session_options().intra_op_num_threads == 1
    for threads in ("2", 0, -1, 1.5):
        with pytest.raises(InputError, match=f"threads must be a positive integer, got {threads!r}"):
            Sampler(onnx_files["dcgan"], threads=threads)


@pytest.fixture(scope="module")
def horse(data_root):
    from translate.io.images import read_image

    return read_image(sorted((data_root / "horse2zebra" / "testA").iterdir())[0])


def test_translator_matches_pytorch_on_odd_sizes(translator_file, horse):
    from translate.families import get_family, load_generator
    from translate.modeling.checkpoint import read_checkpoint
    from translate.modeling.inference import translate_image

    run, path = translator_file
    generator, _ = load_generator(run, "AtoB")
    family = get_family(read_checkpoint(run).family)
    translator = Translator(path)
    for crop in (horse, horse[:101, :57], horse[:3, :5]):
        got = translator.translate(crop)
        assert got.shape == crop.shape and got.dtype == np.uint8
        expected = translate_image(generator, crop, family.size_multiple, family.min_size)
        assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


def test_translator_accepts_grey_and_rgba_and_batches_mixed_sizes(translator_file, horse):
    translator = Translator(translator_file[1])
    grey = horse[:64, :80, 0]
    rgba = np.dstack([horse[:50, :50], np.full((50, 50), 255, np.uint8)])
    assert translator.translate(grey).shape == (64, 80, 3)
    assert np.array_equal(translator.translate(rgba), translator.translate(horse[:50, :50]))
    images = [horse, horse[:64, :80], horse[10:74, 5:85]]
    batched = translator.translate_batch(images, batch_size=2)
    for image, result in zip(images, batched, strict=True):
        assert np.abs(result.astype(int) - translator.translate(image).astype(int)).max() <= 1


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((8, 8, 3), np.float32), r"must be uint8 \(0..255\), got float32: convert it first, e.g. for values "
         r"in 0..1, \(image \* 255\).round\(\).astype\(np.uint8\)$"),
        (np.zeros((8, 8, 3), np.uint16), r"got uint16: convert it first, e.g. for 16-bit pixels, \(image // 257\)"),
        (np.zeros((8, 8, 3), np.int64), r"got int64: convert it first, e.g. np.clip\(image, 0, 255\)"),
        (np.zeros((8, 8, 2), np.uint8), r"H x W or H x W x 1/3/4, got shape \(8, 8, 2\)$"),
        (np.zeros((2, 8, 8, 3), np.uint8), r"got shape \(2, 8, 8, 3\), a batch: translate_batch\(list\(images\)\)"),
        (np.zeros((2, 8, 8, 5), np.uint8), r"H x W or H x W x 1/3/4, got shape \(2, 8, 8, 5\)$"),
        (np.zeros((3, 8, 9), np.uint8), r"got shape \(3, 8, 9\), channels first: image.transpose\(1, 2, 0\)"),
        ([[0, 1], [2, 3]], r"must be a numpy array, got list: np.asarray\(image.convert\(.RGB.\)\) makes one"),
        ("horse.jpg", r"got the path 'horse.jpg': use translate_file for a file$"),
    ],
)
def test_translator_rejects_bad_images(translator_file, image, message):
    with pytest.raises(InputError, match=message):
        Translator(translator_file[1]).translate(image)


def test_translator_refuses_images_above_its_pixel_bound(translator_file):
    translator = Translator(translator_file[1], max_pixels=100 * 100)
    assert translator.translate(np.zeros((100, 100, 3), np.uint8)).shape == (100, 100, 3)  # the bound is inclusive
    with pytest.raises(InputError, match=r"101x100 image \(padded to 104x100.*\) exceeds max_pixels=10000"):
        translator.translate(np.zeros((100, 101, 3), np.uint8))


def test_translate_batch_wants_a_list_and_a_positive_batch_size(translator_file):
    translator = Translator(translator_file[1])
    with pytest.raises(InputError, match="takes a list of images: use translate for a single array"):
        translator.translate_batch(np.zeros((4, 5, 3), np.uint8))  # its rows are not images
    with pytest.raises(InputError, match="batch_size must be a positive integer, got 0"):
        translator.translate_batch([np.zeros((4, 5, 3), np.uint8)], batch_size=0)


def test_the_pixel_bound_counts_the_padding_the_model_needs(tmp_path):
    translator = Translator(onnx_model(tmp_path / "m.onnx", TRANSLATOR_METADATA), max_pixels=64)  # multiple 4, min 8
    assert translator.translate(np.zeros((1, 8, 3), np.uint8)).shape == (1, 8, 3)  # padded to 8 x 8: 64 pixels
    with pytest.raises(InputError, match=r"a 9x1 image \(padded to 12x8: this model takes sides that are multiples "
                       r"of 4 and at least 8\) exceeds max_pixels=64"):
        translator.translate(np.zeros((1, 9, 3), np.uint8))
    translator.session = CountingSession(translator.session)
    with pytest.raises(InputError, match=r"a 9x1 image \(padded"):
        translator.translate_batch([np.zeros((8, 8, 3), np.uint8), np.zeros((1, 9, 3), np.uint8)])
    assert translator.session.shapes == []  # refused before any image ran


class CountingSession:
    """A real ONNX Runtime session that records the batch shape of every run."""

    def __init__(self, session):
        self.session, self.shapes = session, []

    def run(self, outputs, feeds, run_options=None):
        self.shapes.append(next(iter(feeds.values())).shape)
        self.run_options = run_options
        return self.session.run(outputs, feeds, run_options)

    def __getattr__(self, name):  # the rest of the session's interface
        return getattr(self.session, name)


def test_translate_batch_runs_at_most_max_pixels_at_a_time(tmp_path):
    translator = Translator(onnx_model(tmp_path / "m.onnx", TRANSLATOR_METADATA), max_pixels=2 * 8 * 8)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (8, 8, 3), np.uint8) for _ in range(5)] + [rng.integers(0, 256, (5, 6, 3), np.uint8)]
    singles = [translator.translate(image) for image in images]
    translator.session = CountingSession(translator.session)
    out = translator.translate_batch(iter(images), batch_size=8)  # any iterable of images
    assert translator.session.shapes == [(2, 3, 8, 8)] * 3  # the 6 x 5 image pads to 8 x 8 and runs with the rest
    assert all(np.array_equal(a, b) and a.flags.c_contiguous for a, b in zip(out, singles, strict=True))


class NotANumber(torch.nn.Module):
    """log(x - 2) of inputs in [-1, 1]: NaN everywhere, as an overflowing fp16 graph gives."""

    def forward(self, x):
        return torch.log(x - 2)


def test_nan_output_is_a_model_file_error_not_black_pixels(tmp_path):
    metadata = {**TRANSLATOR_METADATA, "translate.precision": "fp16"}
    path = onnx_model(tmp_path / "nan.onnx", metadata, module=NotANumber())
    with pytest.raises(ModelFileError, match=f"{path} returned NaN or infinite values: its fp16 arithmetic "
                       "overflowed: re-export it with --fp16-weights"):
        Translator(path).translate(np.zeros((8, 8, 3), np.uint8))


def test_cuda_that_onnx_runtime_cannot_start_is_refused_not_run_on_the_cpu(onnx_files, monkeypatch):
    # The onnxruntime-gpu case: the provider is listed, but its libraries do not load and ONNX
    # Runtime quietly builds a CPU session (this CPU build does exactly that with CUDA asked for).
    listed = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: listed)
    refused = pytest.raises(InputError, match="could not start CUDAExecutionProvider.*device='cpu'")
    with pytest.warns(UserWarning), refused:
        Sampler(onnx_files["dcgan"], device="cuda")


class OutOfMemorySession:
    """Fails as ONNX Runtime does when an allocation fails (its own exception type and message)."""

    def get_providers(self):
        return ["CPUExecutionProvider"]

    def get_session_options(self):
        return onnxruntime.SessionOptions()

    def run(self, outputs, feeds, run_options=None):
        from onnxruntime.capi.onnxruntime_pybind11_state import RuntimeException

        raise RuntimeException("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while "
                               "running Conv node. Failed to allocate memory for requested buffer of size 1073741824")


def test_running_out_of_memory_names_the_input_not_the_file(tmp_path):
    translator = Translator(onnx_model(tmp_path / "m.onnx", TRANSLATOR_METADATA))
    translator.session = OutOfMemorySession()
    with pytest.raises(InputError, match="ran out of memory .*: give it less at a time"):
        translator.translate(np.zeros((8, 8, 3), np.uint8))


def test_each_run_asks_onnx_runtime_to_shrink_the_cpu_arena_after_it(tmp_path):
    """The setting only: what it gives back is measured by bench/translator_arena.py."""
    translator = Translator(onnx_model(tmp_path / "m.onnx", TRANSLATOR_METADATA))
    translator.session = CountingSession(translator.session)
    translator.translate(np.zeros((8, 8, 3), np.uint8))
    assert translator.session.run_options.get_run_config_entry("memory.enable_memory_arena_shrinkage") == "cpu:0"


def test_a_bad_image_in_a_batch_is_named_by_its_place(translator_file):
    translator = Translator(translator_file[1])
    good = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(InputError, match=r"^image 2 of 3: an image must be uint8"):
        translator.translate_batch([good, good, good.astype(np.float32)])
    with pytest.raises(InputError, match=r"^an image must be uint8"):  # one image: no place to name
        translator.translate_batch([good.astype(np.float32)])


def test_bounds_given_to_the_constructors_are_checked(onnx_files, translator_file):
    with pytest.raises(InputError, match="max_pixels must be a positive integer, got None"):
        Translator(translator_file[1], max_pixels=None)
    with pytest.raises(InputError, match="max_samples must be a positive integer, got 0"):
        Sampler(onnx_files["dcgan"], max_samples=0)


def test_the_default_sample_bound_holds_the_same_bytes_at_any_image_size(onnx_files):
    digits = Sampler(onnx_files["dcgan"])
    assert (digits.info.image_size, digits.max_samples) == (28, 1_000_000)
    rgb64 = dataclasses.replace(digits.info, image_size=64, channels=3)
    assert Sampler(onnx_files["dcgan"], opened=(digits.session, rgb64)).max_samples == 784_000_000 // (64 * 64 * 3)


def test_a_file_for_a_newer_onnx_runtime_says_so_and_keeps_the_provenance_it_reads(onnx_files, tmp_path):
    import onnx

    model = onnx.load(str(onnx_files["dcgan"]))
    model.ir_version = 99
    newer = tmp_path / "newer.onnx"
    onnx.save(model, str(newer))
    with pytest.raises(ModelFileError, match=r"Unsupported model IR version.*upgrade onnxruntime if the file was "
                       "made for a newer one"):
        Sampler(newer)
    extra = Sampler(onnx_files["dcgan"]).info.extra  # the keys ModelInfo has no field for
    assert "translate.source" not in extra and set(extra) >= {"source", "source_sha256", "toolkit_version"}


def test_walks_refuse_a_huge_count_before_allocating(onnx_files):
    sampler = Sampler(onnx_files["cdcgan"])
    with pytest.raises(InputError, match="1000000000000 walks of 2 steps exceed max_samples"):
        sampler.interpolate(0, 1, 2, labels=3, n=10**12)
    with pytest.raises(InputError, match="n must be a positive integer"):
        sampler.interpolate(0, 1, 2, labels=3, n=0)


def test_walks_check_their_whole_count_before_drawing_a_code(onnx_files, monkeypatch):
    sampler = Sampler(onnx_files["cdcgan"], max_samples=100)
    monkeypatch.setattr(sampler, "codes", lambda *a, **k: pytest.fail("codes drawn before the count was checked"))
    with pytest.raises(InputError, match="100 walks of 2 steps exceed max_samples=100"):
        sampler.interpolate(0, 1, 2, labels=3, n=100)
    with pytest.raises(InputError, match="100 walks of 2 steps exceed max_samples=100"):
        sampler.interpolate_labels(1, 2, 2, n=100)
    with pytest.raises(InputError, match="steps must be a whole number"):
        sampler.interpolate(0, 1, 0)


def test_class_weights_may_be_rows_of_a_list(onnx_files):
    sampler = Sampler(onnx_files["cdcgan"])
    z = sampler.codes(2, seed=0)
    weights = [[0.5, 0.5] + [0.0] * 8, [0.0] * 9 + [1.0]]
    assert np.array_equal(sampler.generate(z, weights), sampler.generate(z, np.array(weights)))
    with pytest.raises(InputError, match="rows of numbers"):
        sampler.generate(z, [[0.5, "a"], [1]])


def test_a_fifo_is_refused_rather_than_read_forever(translator_file, tmp_path):
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    translator = Translator(translator_file[1])

    def blocked(*_):
        raise TimeoutError("translate_file waited for a writer to the FIFO")

    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(10)
    try:
        with pytest.raises(DataError, match="is a FIFO, not a regular file"):
            translator.translate_file(fifo)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_session_without_a_cpu_arena_runs(tmp_path):
    """An application's own session (e.g. with the arena off to hold less memory): asking it to
    shrink an arena it lacks would fail every run."""
    path = onnx_model(tmp_path / "m.onnx", TRANSLATOR_METADATA)
    translator = Translator(path)
    options = onnxruntime.SessionOptions()
    options.enable_cpu_mem_arena = False
    translator.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    assert translator.translate(np.zeros((8, 8, 3), np.uint8)).shape == (8, 8, 3)


def test_each_result_of_a_grey_batch_is_its_own_array(tmp_path):
    metadata = {**TRANSLATOR_METADATA, "translate.channels": "1"}
    translator = Translator(onnx_model(tmp_path / "grey.onnx", metadata, channels=1))
    out = translator.translate_batch([np.full((8, 8), v, np.uint8) for v in (0, 100, 200)])
    assert not any(np.shares_memory(a, b) for i, a in enumerate(out) for b in out[i + 1:])


def test_the_default_pixel_bound_is_2048_by_2048(tmp_path):
    translator = Translator(onnx_model(tmp_path / "m.onnx", TRANSLATOR_METADATA))  # multiple 4, min 8
    assert translator.max_pixels == 2048 * 2048  # docs/onnx.md: about 6.1 GiB at the bound with the full generator
    translator.session = CountingSession(translator.session)
    with pytest.raises(InputError, match=r"a 2048x2052 image exceeds max_pixels=4194304: scale or crop it"):
        translator.translate(np.zeros((2052, 2048, 3), np.uint8))
    assert translator.session.shapes == []  # refused before it ran
