"""The error convention: one exception type for problems a user can fix, and the glue
every entry script runs through.

Entry points print a ``UserError`` as two lines (what is wrong, how to fix it) and exit
2; any other exception is a bug and keeps its traceback so that bugs stay visible.

The failure contract of every entry script (``scripts/*.py``, ``build_runners.sh``)
----------------------------------------------------------------------------------
Each script's ``main(argv) -> int`` runs through ``run_entry_point``, which gives all of
them the same behaviour without any code of their own:

Exit codes
    0 done; 1 finished, but something is not ok (failed results, a missing check, a
    partial analysis: the output says what); 2 bad input or a problem the user can fix
    (``UserError``, a bad command line, a full disk, a permission error); 130
    interrupted (Ctrl-C, SIGTERM, SIGHUP, all handled alike); 141 stdout was closed
    (``| head``); anything else is a bug and comes with its traceback.

Without ``--json``
    A problem is one ``error: <what>`` line and one ``  fix: <how>`` line on stderr,
    never a traceback. Argument errors too: build parsers with ``OptionParser``.

With ``--json`` anywhere in the arguments (before a ``--``)
    stdout receives exactly one JSON object, whatever happens, and nothing else:
    while ``main`` runs, ``sys.stdout`` and file descriptor 1 (so also the output of
    child processes) point at stderr, where progress belongs. ``main`` hands its result
    to ``print_json(obj)`` instead of printing it; the object printed at the end is
    that result plus ``"exit_code"``. When the exit code is not 0 the object also has
    ``"error"`` (one line) and ``"fix"``: those ``main`` put in its result, else the
    ``UserError``'s, else a generic pair. ``"run_dir"`` is added when a run directory
    exists (the pipeline names it with ``note_run_dir``). A bad command line, a
    ``UserError`` or an interrupt before ``main`` printed anything gives
    ``{"exit_code": 2, "error": ..., "fix": ...}``; a bug gives ``"error": "internal
    error: ..."`` and its traceback on stderr. A new entry script (e.g.
    ``profile_model.py``) follows the contract by calling ``run_entry_point(main)``,
    building its parser with ``OptionParser``, accepting ``--json``, and passing its
    result to ``print_json``.

Interrupts
    SIGTERM and SIGHUP raise ``Interrupted`` (a ``KeyboardInterrupt``) like Ctrl-C, so
    every ``except KeyboardInterrupt`` and ``finally`` cleans up for them too (a
    pipeline stops its runner and saves its manifest as interrupted). Clean-up that a
    second signal must not cut short runs inside ``finishing()``.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence


class UserError(Exception):
    """A problem the user can fix: bad input, a missing file, a missing tool."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, SIGTERM or SIGHUP: stop now, keep what is finished."""

    def __init__(self, signal_name: str = "SIGINT") -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141            # what a shell reports for a program killed by SIGPIPE
EXIT_BUG = 1

# OSErrors that are the machine's state, not a bug: said as error/fix, never a traceback.
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
_NOT_PERMITTED = {errno.EACCES, errno.EPERM, errno.EROFS}


def describe_interrupt(exc: BaseException) -> str:
    """``Ctrl-C`` or the signal's name, for "interrupted by ..." messages."""
    name = getattr(exc, "signal_name", "SIGINT")
    return "Ctrl-C" if name == "SIGINT" else name


def user_error_from_os_error(exc: OSError) -> UserError | None:
    """A full disk or a refused write as a UserError naming the file; None for other OSErrors."""
    where = f": {exc.filename}" if exc.filename else ""
    if exc.errno in _DISK_FULL:
        folder = Path(exc.filename).parent if exc.filename else Path.cwd()
        return UserError(f"no space left on the device{where}",
                         f"free space there (df -h {folder}) or write to another disk, then run the command again")
    if exc.errno == errno.EROFS:
        return UserError(f"read-only file system{where}", "write to a folder on a writable disk")
    if exc.errno in _NOT_PERMITTED:
        return UserError(f"permission denied{where}",
                         "make it readable/writable for you (ls -l shows the owner), or use another folder")
    return None


# ------------------------------------------------------------------ the --json session

class _JsonReport:
    """What goes on stdout at the end of a --json run: one object."""

    def __init__(self) -> None:
        self.result: dict[str, Any] | None = None
        self.run_dir: str | None = None


_report: _JsonReport | None = None      # set while a --json entry point runs
_run_dir: str | None = None             # the run directory of the command running now


def print_json(data: Any) -> None:
    """Print a command's machine-readable result: the one JSON object of a --json run.

    Outside ``run_entry_point`` (tests calling a main directly) it is printed at once.
    """
    if _report is None:
        print(json.dumps(data, indent=2, default=str), flush=True)
        return
    _report.result = data if isinstance(data, dict) else {"result": data}


def note_run_dir(path: Path | str) -> None:
    """Name the run directory this command works on: failures report it (``run_dir``)."""
    global _run_dir
    _run_dir = str(path)
    if _report is not None:
        _report.run_dir = _run_dir


def wants_json(argv: Sequence[str]) -> bool:
    args = list(argv)
    if "--" in args:
        args = args[:args.index("--")]
    return "--json" in args


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[Callable[[str], None]]:
    """Point sys.stdout and fd 1 at stderr; yield a writer for the real stdout."""
    sys.stdout.flush()
    saved_stdout = sys.stdout
    saved_fd = None
    try:
        fd = sys.stdout.fileno()
        saved_fd = os.dup(fd)
        os.dup2(sys.stderr.fileno(), fd)
    except (AttributeError, OSError, ValueError):   # not a real file (pytest's capsys)
        saved_fd = None
    sys.stdout = sys.stderr

    def write_real_stdout(text: str) -> None:
        saved_stdout.write(text)
        saved_stdout.flush()

    try:
        yield write_real_stdout
    finally:
        sys.stderr.flush()
        sys.stdout = saved_stdout
        if saved_fd is not None:
            os.dup2(saved_fd, saved_stdout.fileno())
            os.close(saved_fd)


def _final_object(code: int, report: _JsonReport, error: UserError | None) -> dict:
    obj = dict(report.result or {})
    obj["exit_code"] = code
    if code != 0:
        if error is not None:
            obj.setdefault("error", error.message)
            obj.setdefault("fix", error.fix or "see the messages on stderr")
        obj.setdefault("error", f"the command ended with exit code {code}")
        obj.setdefault("fix", "see the messages on stderr")
    run_dir = report.run_dir or obj.get("run_dir")
    if run_dir:
        obj["run_dir"] = str(run_dir)
    return obj


# ------------------------------------------------------------------ signals

_protected = 0                          # > 0 while clean-up that must finish is running


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """SIGTERM and SIGHUP raise ``Interrupted`` like Ctrl-C (except inside ``finishing()``).

    Only the main thread can install handlers; elsewhere this does nothing. A Ctrl-C
    handler someone else installed is kept.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame) -> None:
        name = signal.Signals(signum).name
        if _protected:
            print(f"\n{name}: still stopping (saving what is finished) ...", file=sys.stderr, flush=True)
            return
        raise Interrupted(name)

    wanted = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {}
    for sig in wanted:
        if sig == signal.SIGINT and signal.getsignal(sig) is not signal.default_int_handler:
            continue
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def finishing() -> Iterator[None]:
    """Clean-up that a second Ctrl-C/SIGTERM must not cut short: stopping a runner child,
    saving a manifest as interrupted. Signals arriving meanwhile are reported and ignored
    (the process is already stopping)."""
    global _protected
    _protected += 1
    try:
        yield
    finally:
        _protected -= 1


# ------------------------------------------------------------------ the glue

def run_entry_point(main: Callable[[Sequence[str] | None], int | None],
                    argv: Sequence[str] | None = None) -> int:
    """Run ``main`` under the failure contract above; return the exit code.

    Why here: every script must behave the same on bad input (one clear line, no
    traceback, non-zero exit, one JSON object with --json) and nobody should have to
    remember to do it.
    """
    global _report, _run_dir
    quiet_third_party_import_noise()
    args = list(sys.argv[1:] if argv is None else argv)
    _run_dir = None
    if not wants_json(args):
        return _run_plain(main, argv)
    _report = _JsonReport()
    report = _report
    try:
        with _stdout_to_stderr() as write_stdout:
            code, error, bug = _run_capturing(main, argv)
            report.run_dir = report.run_dir or _run_dir
        if code == EXIT_BROKEN_PIPE:
            return code
        try:
            write_stdout(json.dumps(_final_object(code, report, error), indent=2, default=str) + "\n")
        except BrokenPipeError:
            silence_stdout()
            return EXIT_BROKEN_PIPE
        if bug is not None:
            raise bug
        return code
    finally:
        _report = None


def _run_plain(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None) -> int:
    code, _error, bug = _run_capturing(main, argv)
    if bug is not None:
        raise bug
    return code


def _run_capturing(main: Callable[[Sequence[str] | None], int | None],
                   argv: Sequence[str] | None) -> tuple[int, UserError | None, BaseException | None]:
    """(exit code, the UserError shown, a bug to re-raise after the JSON is out)."""
    try:
        with signals_as_interrupts():
            return int(main(argv) or 0), None, None
    except UserError as exc:
        print_user_error(exc)
        return EXIT_USER_ERROR, exc, None
    except KeyboardInterrupt as exc:
        how = describe_interrupt(exc)
        print(f"\ninterrupted ({how})", file=sys.stderr)
        return EXIT_INTERRUPTED, UserError(f"interrupted ({how})", "run the command again"), None
    except BrokenPipeError:
        silence_stdout()
        return EXIT_BROKEN_PIPE, None, None
    except OSError as exc:
        error = user_error_from_os_error(exc)
        if error is None:
            return EXIT_BUG, UserError(f"internal error: {type(exc).__name__}: {exc}",
                                       "this is a bug in the kit; the traceback is on stderr"), exc
        print_user_error(error)
        return EXIT_USER_ERROR, error, None
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USER_ERROR)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        return code, None, None
    except Exception as exc:  # a bug: JSON first (with --json), then the traceback
        return EXIT_BUG, UserError(f"internal error: {type(exc).__name__}: {exc}",
                                   "this is a bug in the kit; the traceback is on stderr"), exc


def silence_stdout() -> None:
    """After a closed pipe, send what is still buffered nowhere (no second error at exit)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


class OptionParser(argparse.ArgumentParser):
    """argparse whose bad command lines are a ``UserError``: ``error: unknown option '--x'``
    with ``fix: see <prog> --help`` and exit 2, the same as every other bad input, rather
    than argparse's usage dump. Every entry script builds its parser with it."""

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            kind = "option" if extra[0].startswith("-") else "argument"
            raise UserError(f"unknown {kind} '{extra[0]}'", f"see {self.prog} --help")
        return parsed

    def error(self, message: str):  # type: ignore[override]
        raise UserError(message, f"see {self.prog} --help")


def print_user_error(exc: UserError) -> None:
    print(f"error: {exc.message}", file=sys.stderr)
    if exc.fix:
        print(f"  fix: {exc.fix}", file=sys.stderr)


# Warnings printed while importing torchao and ExecuTorch's devtools that say nothing
# about the user's model or run (CUDA-only extensions failing to load on a CPU build, an
# upstream deprecation inside torch's pytree registry). They drown the kit's own output.
_NOISY_LOGGERS = ("torchao", "torch.utils._pytree")


def quiet_third_party_import_noise() -> None:
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
