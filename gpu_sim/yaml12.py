"""A YAML 1.2 core-schema loader on top of PyYAML (DECISIONS.md D28, config-and-axes.md §2.4).

PyYAML implements YAML 1.1 (``yes``/``on`` booleans, ``010`` octal, base-60 ``12:30``, ``1e3`` as a
string, ``<<`` merge keys). ``Yaml12Loader`` replaces every implicit resolver and every constructor with
the YAML 1.2 core schema:

* null: ``~``, ``null``, ``Null``, ``NULL`` and the empty plain scalar;
* bool: ``true|True|TRUE|false|False|FALSE`` only;
* int: ``[-+]?[0-9]+`` (decimal, so ``010`` is 10), ``0o[0-7]+``, ``0x[0-9a-fA-F]+``;
* float: ``[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?``, ``[-+]?\\.(inf|Inf|INF)``,
  ``\\.(nan|NaN|NAN)``;
* everything else is a string. Tags outside the core schema (``!!timestamp``, ``!!set``, ``!!binary``,
  local tags ...) are errors, and a mapping with a repeated key is an error.

Every failure is raised as ``ConfigError`` naming the source, line and column.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from harness.errors import ConfigError

__all__ = ["Yaml12Loader", "load_yaml12", "load_yaml12_file"]

TAG_NULL = "tag:yaml.org,2002:null"
TAG_BOOL = "tag:yaml.org,2002:bool"
TAG_INT = "tag:yaml.org,2002:int"
TAG_FLOAT = "tag:yaml.org,2002:float"
TAG_STR = "tag:yaml.org,2002:str"
TAG_SEQ = "tag:yaml.org,2002:seq"
TAG_MAP = "tag:yaml.org,2002:map"

RE_NULL = re.compile(r"(?:~|null|Null|NULL|)\Z")
RE_BOOL = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
RE_INT_DEC = re.compile(r"[-+]?[0-9]+\Z")
RE_INT_OCT = re.compile(r"0o[0-7]+\Z")
RE_INT_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
RE_INT = re.compile(r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z")
RE_FLOAT_NUM = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
RE_FLOAT_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
RE_FLOAT_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")
RE_FLOAT = re.compile(
    r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
)

_DIGITS = list("0123456789")


class Yaml12Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with the YAML 1.2 core schema and duplicate-key rejection."""

    # Fresh tables: nothing is inherited from PyYAML's YAML 1.1 resolvers and constructors.
    yaml_implicit_resolvers: dict = {}
    yaml_constructors: dict = {}
    yaml_multi_constructors: dict = {}

    # -- scalars -----------------------------------------------------------------------------------
    def _scalar(self, node, tag_name: str) -> str:
        if not isinstance(node, ScalarNode):
            raise ConstructorError(None, None, f"!!{tag_name} must be a scalar, not a {node.id}", node.start_mark)
        return node.value

    def construct_core_null(self, node):
        value = self._scalar(node, "null")
        if not RE_NULL.match(value):
            raise ConstructorError(None, None, f"{value!r} is not a YAML 1.2 null", node.start_mark)
        return None

    def construct_core_bool(self, node):
        value = self._scalar(node, "bool")
        if not RE_BOOL.match(value):
            raise ConstructorError(None, None, f"{value!r} is not a YAML 1.2 boolean", node.start_mark)
        return value[0] in "tT"

    def construct_core_int(self, node):
        value = self._scalar(node, "int")
        try:
            if RE_INT_DEC.match(value):
                return int(value, 10)
            if RE_INT_OCT.match(value):
                return int(value[2:], 8)
            if RE_INT_HEX.match(value):
                return int(value[2:], 16)
        except ValueError as exc:  # e.g. more digits than Python converts
            raise ConstructorError(None, None, f"integer {value[:40]!r}... cannot be read: {exc}", node.start_mark) from None
        raise ConstructorError(None, None, f"{value!r} is not a YAML 1.2 integer", node.start_mark)

    def construct_core_float(self, node):
        value = self._scalar(node, "float")
        if RE_FLOAT_NAN.match(value):
            return math.nan
        if RE_FLOAT_INF.match(value):
            return -math.inf if value[0] == "-" else math.inf
        if RE_FLOAT_NUM.match(value):
            return float(value)  # correctly rounded; overflow gives +-inf (decimal text never raises)
        raise ConstructorError(None, None, f"{value!r} is not a YAML 1.2 float", node.start_mark)

    def construct_core_str(self, node):
        return self._scalar(node, "str")

    # -- collections -------------------------------------------------------------------------------
    def construct_mapping(self, node, deep=False):
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, f"expected a mapping, found a {node.id}", node.start_mark)
        mapping: dict = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    "found an unhashable key (a mapping or sequence used as a key)", key_node.start_mark,
                ) from None
            if key in mapping:
                raise ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"duplicate key {key!r}", key_node.start_mark,
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_core_map(self, node):
        data: dict = {}
        yield data
        data.update(self.construct_mapping(node))

    def construct_core_seq(self, node):
        if not isinstance(node, SequenceNode):
            raise ConstructorError(None, None, f"expected a sequence, found a {node.id}", node.start_mark)
        data: list = []
        yield data
        data.extend(self.construct_sequence(node))

    def construct_unsupported(self, node):
        raise ConstructorError(
            None, None, f"tag {node.tag!r} is not part of the YAML 1.2 core schema", node.start_mark
        )


Yaml12Loader.add_implicit_resolver(TAG_NULL, RE_NULL, ["~", "n", "N", ""])
Yaml12Loader.add_implicit_resolver(TAG_BOOL, RE_BOOL, list("tTfF"))
# int before float: a plain scalar matching both (e.g. "10") is an int.
Yaml12Loader.add_implicit_resolver(TAG_INT, RE_INT, _DIGITS + ["-", "+"])
Yaml12Loader.add_implicit_resolver(TAG_FLOAT, RE_FLOAT, _DIGITS + ["-", "+", "."])

Yaml12Loader.add_constructor(TAG_NULL, Yaml12Loader.construct_core_null)
Yaml12Loader.add_constructor(TAG_BOOL, Yaml12Loader.construct_core_bool)
Yaml12Loader.add_constructor(TAG_INT, Yaml12Loader.construct_core_int)
Yaml12Loader.add_constructor(TAG_FLOAT, Yaml12Loader.construct_core_float)
Yaml12Loader.add_constructor(TAG_STR, Yaml12Loader.construct_core_str)
Yaml12Loader.add_constructor(TAG_SEQ, Yaml12Loader.construct_core_seq)
Yaml12Loader.add_constructor(TAG_MAP, Yaml12Loader.construct_core_map)
Yaml12Loader.add_constructor(None, Yaml12Loader.construct_unsupported)


def _fail(source: str, exc: yaml.YAMLError) -> ConfigError:
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    text = f"{context}: {problem}" if context else problem
    return ConfigError(f"{where}: YAML error: {text}; fix: write valid YAML 1.2 (core schema, unique keys)")


def load_yaml12(text: str | bytes, source: str = "<string>"):
    """Parse one YAML 1.2 document; an empty stream gives ``None``."""
    try:
        return yaml.load(text, Loader=Yaml12Loader)  # noqa: S506 - Yaml12Loader is a SafeLoader
    except yaml.YAMLError as exc:
        raise _fail(source, exc) from None
    except RecursionError:
        raise ConfigError(f"{source}: YAML error: document nested too deeply; fix: flatten it") from None


def load_yaml12_file(path: str | Path):
    """Read and parse a YAML 1.2 file (bytes: PyYAML detects UTF-8/UTF-16 by BOM)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found; fix: pass an existing file or no file for the defaults") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror}); fix: check the path and permissions") from None
    return load_yaml12(data, source=str(path))
