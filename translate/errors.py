"""The toolkit's own error types: each message names the problem and the fix."""


class TranslateError(Exception):
    """Base class; command-line entry points print these as one line and exit 2."""


class ConfigError(TranslateError):
    """A configuration value or command-line flag that cannot be used."""


class DataError(TranslateError):
    """A dataset that is missing, empty or unreadable."""


class CheckpointError(TranslateError):
    """A checkpoint that is missing, incomplete or of another model family."""


class ModelFileError(TranslateError):
    """An ONNX model file that is missing, unreadable or lacks the toolkit's metadata."""


class InputError(TranslateError):
    """An input array or argument that a model cannot take (wrong dtype, shape or range)."""


class StorageError(TranslateError):
    """A file or folder that cannot be written: a full disk, a read-only place, a file in the way."""


class FileKindError(TranslateError):
    """A FIFO, device, folder or link where a regular file must be: reading it could block
    forever, never end, or read another file than the one named."""


class DivergedError(TranslateError):
    """Training produced a NaN or infinite loss or weight."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (a library's can run to pages of context), or
    its type's name where it says nothing: the reason a one-line error of ours quotes."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
