"""``scripts/export_model.py``: argument parsing and the human summary of an export."""
from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from sme2prof.errors import OptionParser, print_json
from sme2prof.export.model_registry import ALL_DTYPES, BrokenPackage, parse_model_args, scan_models
from sme2prof.paths import display_path, resolve_repo_path
from sme2prof.export.quantize import INT8_MODES, check_int8_mode

if TYPE_CHECKING:
    from sme2prof.export.exporter import ExportResult

EPILOG = """examples:
  python scripts/export_model.py --list
  python scripts/export_model.py --model toy_cnn --dtype fp32
  python scripts/export_model.py --model mobilenet_v3_small --dtype int8 --out out/artifacts/mnv3
  python scripts/export_model.py --model vit_tiny --dtype int8 --int8-mode dynamic --model-arg depth=12
  python scripts/export_model.py --models-dir ~/my_models --model my_net --dtype fp16

Writes <stem>.pte, <stem>.etrecord and <stem>.export.json into out/artifacts/<model>/
(or --out), where <stem> is:
  <model>_<dtype>          fp32, fp16, int8 (static)   e.g. toy_cnn_int8.pte
  <model>_int8_dynamic     --dtype int8 --int8-mode dynamic   e.g. toy_cnn_int8_dynamic.pte
                           (kept apart, so it never overwrites the static int8 export)
--dtype and --int8-mode ignore case; --int8-mode needs --dtype int8.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = OptionParser(
        prog="export_model.py", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Export a registered PyTorch model to an ExecuTorch .pte lowered to XNNPACK.")
    parser.add_argument("--list", action="store_true", help="list the registered models and exit")
    parser.add_argument("--model", help="model package name (see --list)")
    parser.add_argument("--dtype", type=str.lower, choices=ALL_DTYPES, default="fp32",
                        help="default: fp32")
    parser.add_argument("--int8-mode", type=str.lower, choices=INT8_MODES,
                        help="with --dtype int8 only: static (calibrated activations, default) "
                             "or dynamic")
    parser.add_argument("--out", type=Path, help="output folder (default: out/artifacts/<model>/)")
    parser.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="option passed to the package's build_model(); repeatable")
    parser.add_argument("--models-dir", action="append", default=[], type=Path, metavar="DIR",
                        help="extra folder of model packages; repeatable "
                             "(also: SME2PROF_MODELS_DIR, ':'-separated)")
    parser.add_argument("--json", action="store_true",
                        help="print the export record (or {\"models\": [...]} with --list) as JSON")
    return parser


def export_main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    quiet_library_noise()
    if args.list:
        return list_models(args.models_dir, args.json)
    if not args.model:
        parser.error("--model is required (or use --list)")
    from sme2prof.export.exporter import export_model     # imports torch: not needed for --help

    check_int8_mode(args.dtype, args.int8_mode)    # before the slow torch import
    model_args = parse_model_args(args.model_arg)
    out_dir = resolve_repo_path(args.out, base=Path.cwd()) if args.out else None
    progress = (lambda _msg: None) if args.json else (lambda msg: print(msg, flush=True))
    result = export_model(args.model, args.dtype, out_dir=out_dir, model_args=model_args,
                          int8_mode=args.int8_mode, extra_model_dirs=args.models_dir,
                          progress=progress)
    if args.json:
        print_json({**result.record, "files": {"pte": str(result.pte_path), "etrecord": str(result.etrecord_path),
                                               "export_json": str(result.export_json_path)}})
    else:
        print_summary(result)
    return 0


def list_models(models_dirs: list[Path], as_json: bool) -> int:
    """Good models and broken packages alike; exit 0 even when some are broken.

    Why 0: the listing itself worked and every good model is usable (agents call --list to
    pick one). A broken package is shown in the list and repeated on stderr so it is not
    missed; exporting it by name is what fails.
    """
    scan = scan_models(models_dirs)
    if as_json:
        entries = [{"name": m.name, "description": m.description, "dtypes": list(m.dtypes),
                    "path": str(m.path), "broken": None} for m in scan.models.values()]
        entries += [{"name": b.name, "description": "", "dtypes": [], "path": str(b.path),
                     "broken": {"error": b.error.message, "fix": b.error.fix}}
                    for b in scan.broken.values()]
        print_json({"models": sorted(entries, key=lambda e: e["name"])})
    else:
        rows: dict[str, str] = {name: f"[{','.join(m.dtypes)}]  {m.description}"
                                for name, m in scan.models.items()}
        rows.update({name: f"[broken]  {b.reason}" for name, b in scan.broken.items()})
        width = max((len(name) for name in rows), default=0)
        for name in sorted(rows):
            print(f"{name:<{width}}  {rows[name]}")
        print(f"\n{len(scan.models)} models; add one by copying models/_template/ "
              "(see models/readme.md)")
    _warn_broken(list(scan.broken.values()))
    return 0


def _warn_broken(broken: list[BrokenPackage]) -> None:
    for package in broken:
        print(f"warning: model package '{package.name}' is broken and skipped: {package.reason}\n"
              f"  fix: {package.error.fix}", file=sys.stderr)


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
    for warning in record.get("warnings", []):
        print(f"  warning: {warning}")


def quiet_library_noise() -> None:
    """torch/torchao/executorch print deprecation chatter that buries the summary."""
    warnings.filterwarnings("ignore")
    for name in ("torchao", "torch._export", "torch.export", "torch.utils._pytree", "executorch"):
        logging.getLogger(name).setLevel(logging.ERROR)
