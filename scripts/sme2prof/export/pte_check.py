"""Is this file an ExecuTorch program the runners can load? Checked in milliseconds, before a run.

Why not ask the runtime: loading a program means importing ExecuTorch's Python runtime
(seconds, and torch with it) or starting a runner, and a bad file then fails inside a
worker process with its traceback, after a run folder exists. A ``.pte`` is a
flatbuffer with a fixed layout (``schema/program.fbs`` in ExecuTorch), so the checks a
loader starts with are read here directly, without any dependency:

* readable, not empty, the file identifier ``ET12`` at bytes 4-8 (the schema version this
  ExecuTorch reads);
* the extended header ``eh00`` (program size, segment offset and size): a file cut short
  holds fewer bytes than it declares;
* the method metadata: the program's execution plans, each method's name and its
  inputs (dtype and shape of each tensor input), with every offset inside the file.

``read_program`` returns that metadata; ``check_pte`` turns each way of failing into a
``UserError`` naming the file.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from sme2prof.errors import UserError

FILE_IDENTIFIER = b"ET12"
EXTENDED_HEADER_MAGIC = b"eh00"
RUNNER_METHOD = "forward"         # the method every runner of the kit executes
# union KernelTypes in program.fbs: NONE=0, Null, Int, Bool, Double, Tensor, ...
_EVALUE_TENSOR = 5
# ExecuTorch ScalarType codes (scalar_type.fbs) the kit's models use, for messages
_SCALAR_TYPES = {0: "uint8", 1: "int8", 2: "int16", 3: "int32", 4: "int64", 5: "float16",
                 6: "float32", 7: "float64", 11: "bool", 15: "bfloat16"}
REEXPORT_FIX = "export the model again: python scripts/export_model.py --model <name> --dtype <dtype>"


class Damaged(ValueError):
    """An offset or length that points outside the file: truncated or not a flatbuffer."""


@dataclass
class TensorInput:
    dtype: str
    sizes: list[int]


@dataclass
class Method:
    name: str
    inputs: list[TensorInput | None] = field(default_factory=list)   # None: a non-tensor input
    outputs: int = 0


@dataclass
class Program:
    size_bytes: int
    program_size: int              # bytes of the flatbuffer itself
    segment_bytes: int             # bytes of the segment data after it (delegate blobs, weights)
    methods: list[Method]

    def method(self, name: str) -> Method | None:
        return next((m for m in self.methods if m.name == name), None)


class _Buffer:
    """Bounds-checked flatbuffer reads (little endian, as the format defines)."""

    def __init__(self, data: bytes, limit: int) -> None:
        self.data, self.limit = data, limit

    def _unpack(self, fmt: str, pos: int):
        size = struct.calcsize(fmt)
        if pos < 0 or pos + size > self.limit:
            raise Damaged(f"offset {pos} is outside the {self.limit}-byte program")
        return struct.unpack_from("<" + fmt, self.data, pos)[0]

    def u8(self, pos: int) -> int:
        return self._unpack("B", pos)

    def u16(self, pos: int) -> int:
        return self._unpack("H", pos)

    def i32(self, pos: int) -> int:
        return self._unpack("i", pos)

    def u32(self, pos: int) -> int:
        return self._unpack("I", pos)

    def i64(self, pos: int) -> int:
        return self._unpack("q", pos)

    def field(self, table: int, index: int) -> int | None:
        """Position of field ``index`` of the table at ``table``, or None when absent."""
        vtable = table - self.i32(table)
        vtable_size = self.u16(vtable)
        slot = 4 + 2 * index
        if slot >= vtable_size:
            return None
        offset = self.u16(vtable + slot)
        return table + offset if offset else None

    def indirect(self, pos: int) -> int:
        return pos + self.u32(pos)

    def vector(self, table: int, index: int) -> tuple[int, int]:
        """(first element position, length) of a vector field; (0, 0) when absent."""
        pos = self.field(table, index)
        if pos is None:
            return 0, 0
        start = self.indirect(pos)
        length = self.u32(start)
        if start + 4 + length > self.limit:
            raise Damaged(f"a vector of {length} elements runs past the end of the program")
        return start + 4, length

    def tables(self, table: int, index: int) -> list[int]:
        first, length = self.vector(table, index)
        return [self.indirect(first + 4 * i) for i in range(length)]

    def string(self, table: int, index: int) -> str | None:
        pos = self.field(table, index)
        if pos is None:
            return None
        start = self.indirect(pos)
        length = self.u32(start)
        if start + 4 + length > self.limit:
            raise Damaged("a string runs past the end of the program")
        return self.data[start + 4:start + 4 + length].decode("utf-8", errors="replace")


def _extended_header(data: bytes) -> tuple[int, int, int]:
    """(program size, segment base offset, segment data size) from the ``eh00`` header."""
    if data[8:12] != EXTENDED_HEADER_MAGIC or len(data) < 32:
        return len(data), 0, 0                       # older programs have no extended header
    length = int.from_bytes(data[12:16], "little")
    program_size = int.from_bytes(data[16:24], "little")
    segment_base = int.from_bytes(data[24:32], "little")
    segment_size = int.from_bytes(data[32:40], "little") if length > 24 and len(data) >= 40 else 0
    return program_size, segment_base, segment_size


def _method(buf: _Buffer, plan: int) -> Method:
    # ExecutionPlan: name 0, container_meta_type 1, values 2, inputs 3, outputs 4
    method = Method(name=buf.string(plan, 0) or "")
    values = buf.tables(plan, 2)
    first, count = buf.vector(plan, 3)
    for i in range(count):
        index = buf.i32(first + 4 * i)
        if not 0 <= index < len(values):
            raise Damaged(f"input {i} of method {method.name!r} names value {index} of {len(values)}")
        method.inputs.append(_tensor_input(buf, values[index]))
    method.outputs = buf.vector(plan, 4)[1]
    return method


def _tensor_input(buf: _Buffer, evalue: int) -> TensorInput | None:
    # EValue: val_type 0 (union tag), val 1; Tensor: scalar_type 0, storage_offset 1, sizes 2
    tag_pos = buf.field(evalue, 0)
    value_pos = buf.field(evalue, 1)
    if tag_pos is None or value_pos is None or buf.u8(tag_pos) != _EVALUE_TENSOR:
        return None
    tensor = buf.indirect(value_pos)
    type_pos = buf.field(tensor, 0)
    code = buf.u8(type_pos) if type_pos is not None else 0
    first, count = buf.vector(tensor, 2)
    return TensorInput(_SCALAR_TYPES.get(code, f"scalar type {code}"),
                       [buf.i32(first + 4 * i) for i in range(count)])


def read_program(data: bytes) -> Program:
    """The program's layout and method metadata; raises Damaged (or ValueError) when it has none."""
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        raise ValueError("no ExecuTorch program identifier")
    program_size, segment_base, segment_size = _extended_header(data)
    if program_size > len(data):
        raise Damaged(f"it declares a {program_size}-byte program but holds {len(data)} bytes")
    if segment_base and segment_base + segment_size > len(data):
        raise Damaged(f"it declares {segment_base + segment_size} bytes (program + segments) but holds "
                      f"{len(data)}")
    buf = _Buffer(data, program_size)
    root = buf.indirect(0)
    # Program: version 0, execution_plan 1, ..., segments 4 (DataSegment: offset 0, size 1)
    methods = [_method(buf, plan) for plan in buf.tables(root, 1)]
    for segment in buf.tables(root, 4):
        offset_pos, size_pos = buf.field(segment, 0), buf.field(segment, 1)
        end = (buf.i64(offset_pos) if offset_pos else 0) + (buf.i64(size_pos) if size_pos else 0)
        if segment_base + end > len(data):
            raise Damaged(f"a data segment ends at byte {segment_base + end}, after the end of the file")
    return Program(len(data), program_size, max(0, len(data) - program_size), methods)


def check_pte(path: Path | str, method: str = RUNNER_METHOD) -> Program:
    """The program at ``path``, or a UserError saying why no runner could load it."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"model path {path} is a folder, not a .pte file",
                        "set \"model\" to the .pte file inside it (out/artifacts/<model>/<model>_<dtype>.pte)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read the model file {path}: {exc.strerror or exc}",
                        "make it readable for you (ls -l shows its owner and mode)") from None
    if not data:
        raise UserError(f"model file {path} is empty (0 bytes)", REEXPORT_FIX)
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        what = _what_it_looks_like(data)
        raise UserError(f"{path} is not an ExecuTorch program ({what})",
                        f"point \"model\" at a .pte written by scripts/export_model.py; {REEXPORT_FIX}")
    try:
        program = read_program(data)
    except (ValueError, struct.error) as exc:
        raise UserError(f"model file {path} is truncated or damaged: {exc}", REEXPORT_FIX) from None
    if program.method(method) is None:
        names = ", ".join(repr(m.name) for m in program.methods) or "none"
        raise UserError(f"model file {path} has no method {method!r} (methods: {names})",
                        f"the kit's runners run {method!r}: export the model with scripts/export_model.py")
    return program


def _what_it_looks_like(data: bytes) -> str:
    head = data[:64]
    if head.startswith(b"PK\x03\x04"):
        return "it is a zip archive: an ETRecord or a PyTorch checkpoint?"
    if len(data) >= 8 and data[4:6] == b"ET":
        return f"program identifier {data[4:8]!r}: written by another ExecuTorch version, this one reads {FILE_IDENTIFIER!r}"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return f"it starts with bytes {head[:8].hex(' ')}"
    if len(data) < 8:
        return f"only {len(data)} bytes"
    return f"it is text: {text.strip().splitlines()[0][:40]!r}..." if text.strip() else "it is blank text"
