"""Compare the pins of a requirements file with what this Python has installed.

Why without importing the packages: ``importlib.metadata`` reads each distribution's
metadata file, so checking torch's version costs microseconds instead of the seconds
an ``import torch`` takes, and a broken package cannot crash the check. Environment
markers (``numpy==2.2.6; python_version < "3.11"``) are evaluated for this interpreter,
so only the pins that apply here are compared.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from sme2prof.errors import UserError
from sme2prof.fileio import TextFileError, read_text_file
from sme2prof.paths import SCRIPTS_DIR, display_path

if TYPE_CHECKING:
    from packaging.requirements import Requirement

REQUIREMENTS_FILE = SCRIPTS_DIR / "requirements.txt"


def _requirement_classes() -> tuple[type, type]:
    """packaging's ``Requirement``, imported on first use so that importing this module
    (and ``setup.cli``) works in an interpreter without it, as a fresh venv is."""
    try:  # the kit's .venv has packaging; a plain Python 3.10+ with pip has pip's copy
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:  # pragma: no cover - depends on the interpreter
        from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
    return Requirement, InvalidRequirement


@dataclass(frozen=True)
class PinState:
    """One pin as it applies to this interpreter, and what is installed."""

    name: str
    wanted: str            # the specifier, e.g. "==2.13.0"
    installed: str | None  # None: not installed

    @property
    def ok(self) -> bool:
        if self.installed is None:
            return False
        # "2.13.0+cpu" satisfies "==2.13.0": a local build tag is the same release.
        Requirement, _ = _requirement_classes()
        return Requirement(f"{self.name}{self.wanted}").specifier.contains(self.installed,
                                                                           prereleases=True)

    def describe(self) -> str:
        if self.installed is None:
            return f"{self.name} not installed (pinned {self.wanted})"
        if not self.ok:
            return f"{self.name} {self.installed} installed, pinned {self.wanted}"
        return f"{self.name} {self.installed}"

    def as_json(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def read_pins(path: Path = REQUIREMENTS_FILE) -> list[Requirement]:
    """The requirements of ``path`` whose markers apply to this interpreter."""
    try:
        text = read_text_file(path)
    except OSError as exc:
        raise UserError(f"cannot read the requirements file {display_path(path)}: {exc.strerror}",
                        "pass an existing file with --requirements (default: scripts/requirements.txt)"
                        ) from None
    except TextFileError as exc:
        raise UserError(f"the requirements file {exc}",
                        "pass a pip requirements file saved as UTF-8 text with --requirements "
                        "(default: scripts/requirements.txt)") from None
    Requirement, InvalidRequirement = _requirement_classes()
    pins = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):   # pip options (-r, --index-url) pin nothing
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise UserError(f"{display_path(path)}:{number}: not a requirement: {line!r} ({exc})",
                            "write one pin per line, for example torch==2.13.0") from None
        if requirement.marker is None or requirement.marker.evaluate():
            pins.append(requirement)
    return pins


def pin_states(pins: list[Requirement], names: set[str] | None = None) -> list[PinState]:
    """Each pin (only those in ``names`` when given) with the installed version."""
    states = []
    for requirement in pins:
        if names is not None and requirement.name.lower() not in names:
            continue
        try:
            installed: str | None = version(requirement.name)
        except PackageNotFoundError:
            installed = None
        states.append(PinState(requirement.name, str(requirement.specifier), installed))
    return states
