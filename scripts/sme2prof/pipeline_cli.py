"""Command lines of the two pipelines (host and Android): same options, different transport."""
from __future__ import annotations

import argparse
from typing import Sequence

from .pipeline import HostTransport, run_pipeline

HOST_EPILOG = """examples:
  python scripts/mac_pipeline.py --config configs/examples/linux_quickstart.json
  python scripts/mac_pipeline.py --config configs/examples/mac_mobilenet_fp16.json --dry-run
  python scripts/mac_pipeline.py --resume out/runs/20261121-163512

Each experiment runs warmup + runs iterations per thread count in one runner process with
ETDump on; results go to a new <output_root>/<run-id>/ (manifest.json, ETDumps, logs).
Ctrl-C keeps finished results; --resume RUN_DIR runs the rest."""

ANDROID_EPILOG = """examples:
  python scripts/android_pipeline.py --config configs/examples/android_mobilenet_fp16.json
  python scripts/android_pipeline.py --config configs/examples/android_mobilenet_fp16.json --serial R5CX --dry-run
  python scripts/android_pipeline.py --resume out/runs/20261121-163512

Pushes the .pte and the android-arm64-* runner (+ libc++_shared.so) to
/data/local/tmp/sme2prof/ with adb, runs it there, pulls the ETDump and log back.
adb is taken from --adb, then $ADB, then PATH."""


def build_parser(prog: str, description: str, epilog: str) -> argparse.ArgumentParser:
    """The options both pipelines share."""
    parser = argparse.ArgumentParser(prog=prog, description=description, epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="pipeline config (JSON); see configs/templates/")
    parser.add_argument("--dry-run", action="store_true",
                        help="validate and print every command that would run; write nothing")
    parser.add_argument("--resume", metavar="RUN_DIR",
                        help="finish an interrupted or failed run: re-run only results that are not ok")
    parser.add_argument("--no-analyze", action="store_true", help="skip the analysis after the run")
    return parser


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if bool(args.config) == bool(args.resume):
        parser.error("give exactly one of --config FILE or --resume RUN_DIR")
    return args


def host_main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser("mac_pipeline.py", "Profile a .pte on this machine (macOS or Linux) with the "
                          "runners a config names.", HOST_EPILOG)
    args = parse(parser, argv)
    return run_pipeline(args.config, HostTransport(), dry_run=args.dry_run, resume=args.resume,
                        analyze=not args.no_analyze)


def android_main(argv: Sequence[str] | None = None) -> int:
    from .android import AndroidTransport, find_adb

    parser = build_parser("android_pipeline.py", "Profile a .pte on an Android phone over adb with the "
                          "runners a config names.", ANDROID_EPILOG)
    parser.add_argument("--serial", help="adb serial of the phone (needed when several are connected)")
    parser.add_argument("--adb", help="adb executable (default: $ADB, then adb on PATH)")
    args = parse(parser, argv)
    transport = AndroidTransport(find_adb(args.adb), args.serial)
    return run_pipeline(args.config, transport, dry_run=args.dry_run, resume=args.resume,
                        analyze=not args.no_analyze)
