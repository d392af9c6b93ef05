"""Small dataclass configs that round-trip through JSON and reject what they don't know.

Every setting a checkpoint records is one of these: the architecture (a family's model
config) and the training settings (its train config, with the optimisation settings
nested in it). ``from_dict`` checks every key and type, fills fields that older files
lack from their defaults, and then runs the config's own ``validate``; its errors name
the file the dict came from.
"""

from __future__ import annotations

import dataclasses
import math
import reprlib
import types
import typing
from typing import Any, Self, get_type_hints

from translate.errors import ConfigError

# Values in messages are shown short: an edited file may hold a list nested a thousand deep.
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 80, 80
LOG_EVERY = 50  # steps between TensorBoard scalars, unless --log-every says otherwise
MAX_SEED = 2**63 - 1  # torch.manual_seed takes 64-bit seeds; a signed bound keeps every consumer happy


class ConfigBase:
    """Mixin for ``@dataclass`` configs: ``to_dict`` / ``from_dict`` with key and type checks."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def validate(self) -> None:
        """Raise ConfigError for values no run can use; configs override this."""

    @classmethod
    def from_dict(cls, data: Any, source: str = "") -> Self:
        """The config ``data`` describes; ``source`` (e.g. a file name) prefixes every error."""
        where = f"{source}: " if source else ""
        try:
            return cls._from_dict(data, cls.__name__)
        except ConfigError as exc:
            raise ConfigError(f"{where}{exc}") from None

    @classmethod
    def _from_dict(cls, data: Any, path: str) -> Self:
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must be a JSON object, got {type(data).__name__}")
        hints = get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ConfigError(f"unknown key {unknown[0]!r} in {path}: known keys are {sorted(fields)}")
        missing = [name for name, f in fields.items() if name not in data and _required(f)]
        if missing:
            raise ConfigError(f"{path} lacks the key {missing[0]!r}")
        values = {key: _checked(value, hints[key], f"{path}.{key}") for key, value in data.items()}
        config = cls(**values)
        config.validate()
        return config


def check_weight(name: str, value: float) -> None:
    """A loss weight (or any factor that 0 turns off): a finite number of 0 or more, or a
    ConfigError naming the flag. NaN passes a plain ``value >= 0`` test's negation."""
    if not (math.isfinite(value) and value >= 0):
        raise ConfigError(f"{name} must be a number of 0 or more, got {value}")


def check_ranges(config: Any, ranges: dict[str, tuple[int, int]]) -> None:
    """Every named field within its inclusive range, or a ConfigError naming the first that is not.

    Architectures are bounded so that a damaged or hostile config.json cannot make a
    command allocate without limit (ngf 10000 asked for 12.8 GB before a weight was read)."""
    for name, (low, high) in ranges.items():
        value = getattr(config, name)
        if not low <= value <= high:
            raise ConfigError(f"{name} {value} is outside {low}..{high}")


def check_seed(seed: int, flag: str = "--seed") -> None:
    """A seed every consumer takes (torch, numpy), or a ConfigError naming ``flag``."""
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"{flag} must lie in 0..{MAX_SEED}, got {seed}")


def _required(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _checked(value: Any, expected: Any, path: str) -> Any:
    """``value`` as the annotated type (nested configs built), or ConfigError naming ``path``."""
    origin = typing.get_origin(expected)
    if isinstance(expected, type) and issubclass(expected, ConfigBase):
        return expected._from_dict(value, path)
    if origin in (types.UnionType, typing.Union):
        for option in typing.get_args(expected):
            try:
                return _checked(value, option, path)
            except ConfigError:
                continue
    elif origin is list:
        if isinstance(value, list):
            (item,) = typing.get_args(expected)
            return [_checked(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
    elif expected is type(None):
        if value is None:
            return None
    elif expected is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif expected is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(value, expected):
        return value
    raise ConfigError(f"{path} must be {_type_name(expected)}, got {_SHORT.repr(value)}")


def _type_name(expected: Any) -> str:
    if typing.get_origin(expected) in (types.UnionType, typing.Union):
        return " or ".join(_type_name(option) for option in typing.get_args(expected))
    if expected is type(None):
        return "null"
    return getattr(expected, "__name__", str(expected))
