"""Find model packages and load them: the onboarding surface of the kit.

A model is a plain Python package ``<dir>/<name>/__init__.py`` that needs nothing from
the kit (see ``models/_template/``). The registry scans ``models/`` plus any directory a
user adds (``--models-dir`` or ``SME2PROF_MODELS_DIR``), so adding a model never means
editing a central list. Folders whose name starts with ``_`` or ``.`` (the template,
caches) are skipped.

A broken package (syntax error, missing ``build_model``...) must not take the others
down with it: a half-edited copy of the template in ``models/`` would otherwise block
every export. ``scan_models`` therefore records broken packages next to the good ones;
only asking for a broken one by name (``get_model``) is fatal.

Why the packages are loaded from their file path and not via ``sys.path``: two model
directories may hold packages with the same name as an installed library (``models/
torch`` would shadow torch); loading by path under a private module name avoids that.

A package is user code run at import, so it may also ``sys.exit()`` (caught: the package
is broken, the others load) or hang. Imports are bounded by a timer
(``SME2PROF_MODEL_IMPORT_TIMEOUT`` seconds, default 60; SIGALRM, so only in the main
thread, and only a hang that returns to Python, such as a sleep, a loop or a blocking
read, can be cut short): a package still importing then is reported as broken and the
scan goes on.
"""
from __future__ import annotations

import contextlib
import difflib
import importlib.util
import inspect
import os
import re
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable, Iterator

from sme2prof.errors import UserError
from sme2prof.paths import MODELS_DIR

ALL_DTYPES = ("fp32", "fp16", "int8")
MODELS_DIR_ENV = "SME2PROF_MODELS_DIR"
IMPORT_TIMEOUT_ENV = "SME2PROF_MODEL_IMPORT_TIMEOUT"
DEFAULT_IMPORT_TIMEOUT_S = 60.0
_MODULE_PREFIX = "sme2prof_models."
_VALID_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class ModelSpec:
    """What the kit knows about one model package, read without building the model."""

    name: str
    description: str
    dtypes: tuple[str, ...]
    module: ModuleType
    path: Path
    has_calibration_inputs: bool = False
    dynamic_shapes: Any = None

    def build_model(self, **model_args: Any):
        """Call the package's ``build_model`` with the user's ``--model-arg`` options."""
        return self.module.build_model(**model_args)

    def example_inputs(self, **model_args: Any) -> tuple:
        """The package's example inputs; options reach it when it accepts them.

        Why pass options here too: an option such as ``image_size`` changes the input
        shape, so ``example_inputs`` may declare the same keyword to stay in step.
        """
        return _as_tuple(_call_with_accepted(self.module.example_inputs, model_args))

    def calibration_inputs(self, **model_args: Any) -> list[tuple]:
        """The package's calibration set, or the example inputs when it has none."""
        if self.has_calibration_inputs:
            batches = _call_with_accepted(self.module.calibration_inputs, model_args)
            return [_as_tuple(batch) for batch in batches]
        return [self.example_inputs(**model_args)]


def _as_tuple(inputs: Any) -> tuple:
    return tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)


def _call_with_accepted(function, options: dict[str, Any]):
    """Call ``function`` with the subset of ``options`` its signature accepts."""
    parameters = inspect.signature(function).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return function(**options)
    names = {p.name for p in parameters}
    return function(**{k: v for k, v in options.items() if k in names})


def models_dirs(extra_dirs: Iterable[Path | str] | None = None) -> list[Path]:
    """``models/`` first, then the environment variable's directories, then ``extra_dirs``.

    A directory that does not exist is a user error (a typo would otherwise silently
    hide the user's models).
    """
    dirs: list[Path] = [MODELS_DIR]
    env_value = os.environ.get(MODELS_DIR_ENV, "")
    env_dirs = [Path(p) for p in env_value.split(os.pathsep) if p.strip()]
    for source, candidates in ((f"{MODELS_DIR_ENV}", env_dirs),
                               ("--models-dir", [Path(p) for p in (extra_dirs or [])])):
        for directory in candidates:
            directory = Path(os.path.expanduser(str(directory))).resolve()
            if directory.exists() and not directory.is_dir():
                raise UserError(f"models directory {directory} (from {source}) is a file, "
                                "not a folder",
                                "pass the folder that holds one sub-folder per model package "
                                "(e.g. the file's parent folder), or unset " + MODELS_DIR_ENV)
            if not directory.is_dir():
                raise UserError(f"models directory {directory} (from {source}) does not exist",
                                "pass an existing folder that holds one sub-folder per model "
                                "package, or unset " + MODELS_DIR_ENV)
            if directory not in dirs:
                dirs.append(directory)
    return dirs


@dataclass
class BrokenPackage:
    """A model package that fails to load: kept so ``--list`` can show it and ``get_model`` can
    raise its error, while every other model stays usable."""

    name: str
    path: Path
    error: UserError

    @property
    def reason(self) -> str:
        return self.error.message


@dataclass
class ModelScan:
    """Everything found in the models folders: loadable models and broken packages, by name."""

    models: dict[str, ModelSpec]
    broken: dict[str, BrokenPackage]


def scan_models(extra_dirs: Iterable[Path | str] | None = None) -> ModelScan:
    """Load every model package; a later directory overrides an earlier one.

    Overriding lets a user shadow a shipped model with their own variant without
    touching the repository; a broken override shadows too (the user meant theirs).
    """
    found: dict[str, ModelSpec | BrokenPackage] = {}
    for directory in models_dirs(extra_dirs):
        for package_dir in sorted(directory.iterdir()):
            if is_model_package(package_dir):
                try:
                    found[package_dir.name] = load_model_package(package_dir)
                except UserError as exc:
                    found[package_dir.name] = BrokenPackage(package_dir.name, package_dir, exc)
    ordered = dict(sorted(found.items()))
    return ModelScan(
        models={n: m for n, m in ordered.items() if isinstance(m, ModelSpec)},
        broken={n: m for n, m in ordered.items() if isinstance(m, BrokenPackage)})


def discover_models(extra_dirs: Iterable[Path | str] | None = None) -> dict[str, ModelSpec]:
    """Every loadable model package, by name (broken ones: see ``scan_models``)."""
    return scan_models(extra_dirs).models


def is_model_package(path: Path) -> bool:
    return (path.is_dir() and not path.name.startswith(("_", "."))
            and (path / "__init__.py").is_file())


def get_model(name: str, extra_dirs: list[Path] | None = None) -> ModelSpec:
    """The named model, or a UserError that suggests the closest registered names."""
    scan = scan_models(extra_dirs)
    models = scan.models
    if name in models:
        return models[name]
    if name in scan.broken:
        raise scan.broken[name].error
    close = difflib.get_close_matches(name, list(models), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise UserError(f"unknown model '{name}'",
                    f"{hint}run `python scripts/export_model.py --list` to see the "
                    f"{len(models)} registered models")


def load_model_package(package_dir: Path) -> ModelSpec:
    """Import one package from its folder and check it honours the contract."""
    name = package_dir.name
    if not _VALID_NAME.match(name):
        raise UserError(f"model package folder '{package_dir}' is not a valid model name",
                        "use lower-case letters, digits and underscores, starting with a letter")
    module_name = _MODULE_PREFIX + name
    spec = importlib.util.spec_from_file_location(
        module_name, package_dir / "__init__.py", submodule_search_locations=[str(package_dir)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    timeout = import_timeout()
    try:
        with _time_limit(timeout):
            spec.loader.exec_module(module)
    except _ImportTimedOut:
        sys.modules.pop(module_name, None)
        raise UserError(f"model package '{name}' ({package_dir}) did not finish importing within "
                        f"{timeout:g} s (it hangs, or waits for something at import)",
                        f"move slow or blocking work from the top of {package_dir / '__init__.py'} into "
                        f"build_model(), or raise {IMPORT_TIMEOUT_ENV}") from None
    except SystemExit as exc:   # sys.exit() at import: the package is broken, the scan goes on
        sys.modules.pop(module_name, None)
        raise UserError(f"model package '{name}' ({package_dir}) calls sys.exit({exc.code!r}) when imported",
                        f"remove the sys.exit() from {package_dir / '__init__.py'} (raise an exception "
                        "with a message instead)") from None
    except Exception as exc:  # a broken user package is the user's to fix, not our bug
        sys.modules.pop(module_name, None)
        raise UserError(f"model package '{name}' ({package_dir}) fails to import: "
                        f"{type(exc).__name__}: {exc}",
                        f"fix {package_dir / '__init__.py'} so that `import` works") from exc
    return _spec_from_module(name, module, package_dir)


class _ImportTimedOut(BaseException):
    """Raised into a package's import by the timer (a BaseException: ``except Exception`` in
    the package does not swallow it)."""


def import_timeout() -> float:
    value = os.environ.get(IMPORT_TIMEOUT_ENV, "")
    try:
        seconds = float(value) if value.strip() else DEFAULT_IMPORT_TIMEOUT_S
    except ValueError:
        raise UserError(f"{IMPORT_TIMEOUT_ENV}={value!r} is not a number of seconds",
                        f"set it to e.g. {DEFAULT_IMPORT_TIMEOUT_S:g}, or unset it") from None
    return seconds if seconds > 0 else DEFAULT_IMPORT_TIMEOUT_S


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expired(_signum, _frame) -> None:
        raise _ImportTimedOut()

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _spec_from_module(name: str, module: ModuleType, package_dir: Path) -> ModelSpec:
    for required in ("build_model", "example_inputs"):
        if not callable(getattr(module, required, None)):
            raise UserError(f"model package '{name}' has no {required}() function",
                            f"add {required}() to {package_dir / '__init__.py'} "
                            "(see models/_template/__init__.py)")
    declared = getattr(module, "DTYPES", ALL_DTYPES)
    if not isinstance(declared, (list, tuple)) or not declared:
        raise UserError(f"model package '{name}' sets DTYPES = {declared!r}; it must be a non-empty "
                        "tuple of dtype names", f'write e.g. DTYPES = ("fp32", "fp16") in {package_dir / "__init__.py"}')
    dtypes = tuple(declared)
    unknown = [d for d in dtypes if d not in ALL_DTYPES]
    if unknown:
        raise UserError(f"model package '{name}' lists unknown dtypes {unknown} in DTYPES",
                        f"use only {', '.join(ALL_DTYPES)}")
    first_doc_line = ((module.__doc__ or "").strip().splitlines() or [""])[0]
    description = str(getattr(module, "DESCRIPTION", "") or first_doc_line)
    return ModelSpec(name=name, description=description, dtypes=dtypes, module=module,
                     path=package_dir,
                     has_calibration_inputs=callable(getattr(module, "calibration_inputs", None)),
                     dynamic_shapes=getattr(module, "DYNAMIC_SHAPES", None))


def parse_model_args(pairs: Iterable[str]) -> dict[str, Any]:
    """``["checkpoint=w.pt", "depth=4"]`` -> ``{"checkpoint": "w.pt", "depth": 4}``.

    Values that read as int, float, true/false or none become those types so that a
    package's ``build_model(depth: int = 12)`` gets what it expects.
    """
    args: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip().isidentifier():
            raise UserError(f"--model-arg '{pair}' is not key=value",
                            "write it as --model-arg name=value, e.g. --model-arg depth=4")
        args[key.strip()] = _typed_value(value.strip())
    return args


def _typed_value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text
