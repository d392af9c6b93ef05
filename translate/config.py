"""Small dataclass configs that round-trip through JSON and reject what they don't know."""

from __future__ import annotations

import dataclasses
from typing import Any, Self, get_type_hints

from translate.errors import ConfigError


class ConfigBase:
    """Mixin for ``@dataclass`` configs: ``to_dict`` / ``from_dict`` with key and type checks."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        if not isinstance(data, dict):
            raise ConfigError(f"{cls.__name__} must be a JSON object, got {type(data).__name__}")
        hints = get_type_hints(cls)
        fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - fields)
        if unknown:
            raise ConfigError(f"unknown key {unknown[0]!r} in {cls.__name__}: known keys are {sorted(fields)}")
        for key, value in data.items():
            expected = hints[key]
            ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                ok = True
            if not ok:
                raise ConfigError(
                    f"key {key!r} in {cls.__name__} must be {expected.__name__}, got {value!r}"
                )
        config = cls(**data)
        validate = getattr(config, "validate", None)
        if validate:
            validate()
        return config
