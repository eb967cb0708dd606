"""The error convention: one exception type for problems a user can fix, and the glue
every entry script runs through.

Entry points print a ``UserError`` as two lines (what is wrong, how to fix it) and exit
2; any other exception is a bug and keeps its traceback so that bugs stay visible.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable, Sequence


class UserError(Exception):
    """A problem the user can fix: bad input, a missing file, a missing tool."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message


EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def run_entry_point(main: Callable[[Sequence[str] | None], int | None],
                    argv: Sequence[str] | None = None) -> int:
    """Run ``main`` and turn a ``UserError`` into ``error:``/``fix:`` lines and exit 2.

    Why here: every script must behave the same on bad input (one clear line, no
    traceback, non-zero exit) and nobody should have to remember to do it.
    """
    quiet_third_party_import_noise()
    try:
        code = main(argv)
    except UserError as exc:
        print_user_error(exc)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    return int(code or 0)


class OptionParser(argparse.ArgumentParser):
    """argparse whose bad command lines are a ``UserError``: ``error: unknown option '--x'``
    with ``fix: see <prog> --help`` and exit 2, the same as every other bad input, rather
    than argparse's usage dump. For the shell-facing commands (set-up, skills installer)."""

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
