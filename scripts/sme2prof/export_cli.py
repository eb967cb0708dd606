"""``scripts/export_model.py``: argument parsing and the human summary of an export."""
from __future__ import annotations

import argparse
import json
import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from .model_registry import ALL_DTYPES, discover_models, parse_model_args
from .paths import display_path, resolve_repo_path
from .quantize import INT8_MODES

if TYPE_CHECKING:
    from .exporter import ExportResult

EPILOG = """examples:
  python scripts/export_model.py --list
  python scripts/export_model.py --model toy_cnn --dtype fp32
  python scripts/export_model.py --model mobilenet_v3_small --dtype int8 --out out/artifacts/mnv3
  python scripts/export_model.py --model vit_tiny --dtype int8 --int8-mode dynamic --model-arg depth=12
  python scripts/export_model.py --models-dir ~/my_models --model my_net --dtype fp16

Writes <model>_<dtype>.pte, .etrecord and .export.json into out/artifacts/<model>/.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="export_model.py", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Export a registered PyTorch model to an ExecuTorch .pte lowered to XNNPACK.")
    parser.add_argument("--list", action="store_true", help="list the registered models and exit")
    parser.add_argument("--model", help="model package name (see --list)")
    parser.add_argument("--dtype", choices=ALL_DTYPES, default="fp32", help="default: fp32")
    parser.add_argument("--int8-mode", choices=INT8_MODES, default="static",
                        help="int8 only: static (calibrated activations, default) or dynamic")
    parser.add_argument("--out", type=Path, help="output folder (default: out/artifacts/<model>/)")
    parser.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="option passed to the package's build_model(); repeatable")
    parser.add_argument("--models-dir", action="append", default=[], type=Path, metavar="DIR",
                        help="extra folder of model packages; repeatable "
                             "(also: SME2PROF_MODELS_DIR, ':'-separated)")
    parser.add_argument("--json", action="store_true",
                        help="print the export record (or the model list) as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet_library_noise()
    if args.list:
        return list_models(args.models_dir, args.json)
    if not args.model:
        parser.error("--model is required (or use --list)")
    from .exporter import export_model     # imports torch: not needed for --help

    model_args = parse_model_args(args.model_arg)
    out_dir = resolve_repo_path(args.out, base=Path.cwd()) if args.out else None
    progress = (lambda _msg: None) if args.json else (lambda msg: print(msg, flush=True))
    result = export_model(args.model, args.dtype, out_dir=out_dir, model_args=model_args,
                          int8_mode=args.int8_mode, extra_model_dirs=args.models_dir,
                          progress=progress)
    if args.json:
        print(json.dumps(result.record, indent=2))
    else:
        print_summary(result)
    return 0


def list_models(models_dirs: list[Path], as_json: bool) -> int:
    models = discover_models(models_dirs)
    if as_json:
        print(json.dumps([{"name": m.name, "description": m.description, "dtypes": list(m.dtypes),
                           "path": str(m.path)} for m in models.values()], indent=2))
        return 0
    width = max((len(name) for name in models), default=0)
    for spec in models.values():
        print(f"{spec.name:<{width}}  [{','.join(spec.dtypes)}]  {spec.description}")
    print(f"\n{len(models)} models; add one by copying models/_template/ (see models/readme.md)")
    return 0


def print_summary(result: "ExportResult") -> None:
    record = result.record
    sizes = record["file_sizes"]
    print(f"\nexported {record['model']} ({record['dtype']}"
          f"{', ' + record['quantization']['mode'] if record['quantization'] else ''}) "
          f"in {record['export_seconds']:.1f} s")
    print(f"  pte:      {display_path(result.pte_path)} ({sizes['pte'] / 1e6:.2f} MB)")
    print(f"  etrecord: {display_path(result.etrecord_path)} ({sizes['etrecord'] / 1e6:.2f} MB)")
    print(f"  record:   {display_path(result.export_json_path)}")
    print(f"  XNNPACK:  {record['xnnpack_partitions']} partition(s), "
          f"{record['delegated_op_count']} ops delegated, "
          f"{record['non_delegated_op_count']} not "
          f"(coverage {record['delegation_coverage']:.0%})")
    if record["non_delegated_ops"]:
        left = ", ".join(f"{op} x{n}" for op, n in record["non_delegated_ops"].items())
        print(f"  outside the delegate (portable kernels): {left}")
    if record["xnnpack_partitions"] == 0:
        print("  warning: nothing was delegated to XNNPACK; profiles will show only "
              "portable-kernel operators")


def _quiet_library_noise() -> None:
    """torch/torchao/executorch print deprecation chatter that buries the summary."""
    warnings.filterwarnings("ignore")
    for name in ("torchao", "torch._export", "torch.export", "torch.utils._pytree", "executorch"):
        logging.getLogger(name).setLevel(logging.ERROR)
