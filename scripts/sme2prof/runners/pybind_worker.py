"""The ``pybind`` runner: ExecuTorch's Python runtime behind executor_runner's flags.

Why a separate process: every experiment and thread count gets a clean runtime (fresh
threadpool, fresh XNNPACK caches, fresh ETDump), and the pipeline treats this worker
exactly like a C++ runner: same flags, same ``Iteration i of N: X ms`` log lines, one
ETDump holding every execution (warm-up included, as ``run_layout`` requires).

Run as ``python -m sme2prof.runners.pybind_worker --model_path m.pte --etdump_path e.etdp
--num_executions 12 --cpu_threads 4``. Inputs are filled with ones, as executor_runner
does, with shapes and dtypes read from the program's method metadata.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence

# ExecuTorch ScalarType codes (runtime/core/portable_type/scalar_type.h) -> torch dtype names.
_SCALAR_TYPES = {0: "uint8", 1: "int8", 2: "int16", 3: "int32", 4: "int64", 5: "float16",
                 6: "float32", 7: "float64", 11: "bool", 15: "bfloat16"}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sme2prof.runners.pybind_worker",
        description="Run a .pte with the ExecuTorch Python runtime, executor_runner style.",
        epilog="example: python -m sme2prof.runners.pybind_worker --model_path m.pte "
               "--etdump_path m.etdp --num_executions 12 --cpu_threads 2")
    parser.add_argument("--model_path", required=True)
    parser.add_argument("--etdump_path", required=True)
    parser.add_argument("--num_executions", type=int, default=1)
    parser.add_argument("--cpu_threads", type=int, default=0, help="0 keeps the runtime default")
    parser.add_argument("--method_name", default="forward")
    args = parser.parse_args(argv)
    if args.num_executions <= 0:
        parser.error("--num_executions must be > 0")
    return args


def make_inputs(method_meta, torch) -> tuple:
    """Ones with the shapes and dtypes the method expects (what executor_runner feeds)."""
    inputs = []
    for i in range(method_meta.num_inputs()):
        info = method_meta.input_tensor_meta(i)
        dtype = getattr(torch, _SCALAR_TYPES.get(int(info.dtype()), "float32"))
        inputs.append(torch.ones(tuple(info.sizes()), dtype=dtype))
    return tuple(inputs)


def set_threads(runtime, threads: int) -> int:
    """Resize the runtime's threadpool and return the size it reports back."""
    if threads > 0:
        runtime._unsafe_reset_threadpool(threads)
        actual = int(runtime._threadpool_get_thread_count())
        if actual != threads:
            raise RuntimeError(f"threadpool reports {actual} threads after asking for {threads}")
    return int(runtime._threadpool_get_thread_count())


def load_runtime():
    """ExecuTorch's Python runtime, without the seconds ``portable_lib`` spends on imports.

    Why: ``executorch.extension.pybindings.portable_lib`` imports ``executorch.exir`` (for
    one warning class), which pulls in torch._dynamo and the export stack: about 6 s of
    CPU on a 2-core x86_64 host before the first inference. The runtime itself is the
    compiled ``_C`` extension that ``portable_lib`` re-exports name for name; it needs only
    torch (its inputs are torch tensors), about a third of that time. Should a later wheel
    move ``_C``, the documented module is used instead.
    """
    import torch  # noqa: F401  (the runtime takes torch tensors; load torch's libraries first)
    try:
        from executorch.extension.pybindings import _C as runtime
    except ImportError:                           # pragma: no cover - another wheel layout
        from executorch.extension.pybindings import portable_lib as runtime
    return runtime, torch


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    runtime, torch = load_runtime()

    threads = set_threads(runtime, args.cpu_threads)
    print(f"pybind worker: threadpool has {threads} threads", flush=True)
    module = runtime._load_for_executorch(args.model_path, enable_etdump=True)
    print(f"Model file {args.model_path} is loaded.", flush=True)
    inputs = make_inputs(module.method_meta(args.method_name), torch)
    method = getattr(module, args.method_name) if args.method_name == "forward" else None
    for i in range(1, args.num_executions + 1):
        start = time.perf_counter()
        if method is not None:
            method(inputs)
        else:
            module.run_method(args.method_name, inputs)
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        print(f"Iteration {i} of {args.num_executions}: {elapsed_ms:.6f} ms", flush=True)
    module.write_etdump_result_to_file(args.etdump_path)
    print(f"ETDump written to {args.etdump_path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
