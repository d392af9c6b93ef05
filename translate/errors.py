"""The toolkit's own error types: each message names the problem and the fix."""


class TranslateError(Exception):
    """Base class; command-line entry points print these as one line and exit 2."""


class ConfigError(TranslateError):
    """A configuration value or command-line flag that cannot be used."""


class DataError(TranslateError):
    """A dataset that is missing, empty or unreadable."""


class CheckpointError(TranslateError):
    """A checkpoint that is missing, incomplete or of another model family."""
