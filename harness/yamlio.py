"""The harness's own YAML reading and writing (sweep specs, generated and materialised configs).

Reading: ruamel.yaml safe loader, YAML 1.2 core schema, duplicate keys rejected. Writing: native
YAML types only — booleans ``true/false``, enum names, ints without a point, floats always with a
decimal point (``1.0e-05``), strings quoted — so no scalar is ambiguous to any 1.2 parser
(config-and-axes.md §10.2 item 4). Files are written atomically (temp file + rename).
"""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import YAMLError

from harness.errors import ConfigError


def read_yaml(path: Path) -> object:
    """Parse a YAML 1.2 file strictly; errors name the file and the fix."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found; fix: check the path")
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        return yaml.load(path.read_text())
    except DuplicateKeyError as exc:
        raise ConfigError(f"{path}: duplicate key: {exc.problem}; fix: keep one of them") from None
    except YAMLError as exc:
        raise ConfigError(f"{path}: malformed YAML: {exc}; fix: repair the syntax") from None


def format_float(x: float) -> str:
    """A float as a YAML 1.2 scalar that always carries a decimal point."""
    if not math.isfinite(x):
        raise ValueError(f"cannot write non-finite float {x!r}")
    s = repr(float(x))
    if "e" in s and "." not in s.split("e")[0]:
        mantissa, exp = s.split("e")
        s = f"{mantissa}.0e{exp}"
    return s


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"  # YAML 1.2 spelling; only test documents carry these (loaders reject them)
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return format_float(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r}")


def dump_yaml(doc: dict, header: str = "") -> str:
    """Render a nested mapping as block YAML with unambiguous scalars."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]

    def emit(node: dict, indent: int) -> None:
        for key, value in node.items():
            pad = "  " * indent
            if isinstance(value, dict) and value:
                lines.append(f"{pad}{key}:")
                emit(value, indent + 1)
            elif isinstance(value, dict):
                lines.append(f"{pad}{key}: {{}}")
            else:
                lines.append(f"{pad}{key}: {_scalar(value)}")

    emit(doc, 0)
    return "\n".join(lines) + "\n"


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temp file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
