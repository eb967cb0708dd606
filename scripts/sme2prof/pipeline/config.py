"""The pipeline config: parse, validate everything, fill defaults, before anything runs.

Why so strict: a typo in a config (``"thread": [1, 4]``) would otherwise be silently
ignored and a whole profiling session would measure the wrong thing. Every problem is
reported as one ``UserError`` naming the file, the place and the fix; a JSON syntax
error gives line and column, an unknown key names the nearest valid key.

The checks here need nothing but the config text, so every file in ``configs/`` can be
validated on any machine; whether its model file and runners exist on *this* machine
is checked by ``check_model_file`` and by runner resolution (``runners/resolve.py``).
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from sme2prof.errors import UserError
from sme2prof.export.pte_check import check_pte
from sme2prof.fileio import TextFileError, parse_json_text, read_text_file
from sme2prof.paths import RUNS_DIR, resolve_repo_path
from sme2prof.runners.registry import EMULATED_RUNNERS, PLATFORMS, split_variant_name

MODES = ("timing", "xnntrace")
SME2_EXPECTATIONS = ("on", "off", "any")
# folder names of a run directory that are not experiments: <run>/analysis/, <run>/model/
RESERVED_EXPERIMENT_NAMES = {"analysis": "the analysis folder", "model": "the run's copy of the model"}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

_MEANING = "meaning"
DEFAULT_PHONE_COOLDOWN_S = 120


def _key(meaning: str, default: Any = MISSING) -> Any:
    """A config key: its field name is the JSON key, ``meaning`` is shown when it is missing."""
    return field(default=default, metadata={_MEANING: meaning})


# The dataclasses below are the config's one definition: their fields, in order, are the
# JSON keys (and the order config.json and the manifest keep), their defaults the
# defaults, and the *_KEYS tables that the checks and the error messages use derive
# from them. Keys without a default are required.

@dataclass(frozen=True, kw_only=True)
class AnalysisOptions:
    compare_pairs: tuple[tuple[str, str], ...] = _key("list of [experiment_a, experiment_b] pairs", ())
    interleave_rounds: int = _key("run each compare pair in this many alternating rounds (A B, B A, A B, ...); "
                                  "0 runs each side in one go", 0)


@dataclass(frozen=True, kw_only=True)
class Cooldown:
    """How long to wait, before each runner invocation, for the CPU to cool back to its first reading."""

    max_seconds: int | None = _key("longest wait before one invocation (0: never wait; default: "
                                   f"{DEFAULT_PHONE_COOLDOWN_S} on a phone, 0 on a host)", None)
    margin_c: float = _key("degrees Celsius above the run's first reading that count as cooled down", 2.0)


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """One experiment: a runner, how to run it, and the thread counts to run it at."""

    name: str = _key("unique experiment name (letters, digits, _ . -)")
    runner: str = _key("pybind, wheel, a built runner name, or a path to a binary")
    mode: str = _key("timing or xnntrace", "timing")
    runs: int = _key("timed iterations (> 0)", 10)
    warmup: int = _key("warm-up iterations before the timed ones (>= 0)", 2)
    threads: tuple[int, ...] = _key("list of CPU thread counts (each > 0)", (1,))
    sme2: str = _key("expected SME2 state: on, off or any", "any")
    cpu: str | None = _key(f"run emulated with this qemu-aarch64 -cpu (e.g. max or max,sme=off; 512-bit SVL unless "
                           f"sme-default-vector-length is given): {', '.join(EMULATED_RUNNERS)} or a "
                           "linux-aarch64 runner", None)
    timeout_seconds: int = _key("seconds before one runner invocation is stopped", 900)
    cpu_affinity: tuple[int, ...] | None = _key("phone cores to pin the runner to with taskset, e.g. [7] "
                                                "(default: the fastest cluster; one core for one thread)", None)
    description: str = _key("free text kept in the manifest", "")

    @property
    def num_executions(self) -> int:
        """Every runner invocation runs the warm-up and the timed iterations in one process."""
        return self.warmup + self.runs


@dataclass(frozen=True, kw_only=True)
class Config:
    """A validated config: every key present (defaults filled), every value checked."""

    model: str = _key("path to the .pte file")
    output_root: str | None = _key("folder that receives <run-id>/ (default out/runs)", None)
    experiments: tuple[Experiment, ...] = _key("non-empty list of experiments")
    analysis: AnalysisOptions = _key("analysis options, e.g. compare_pairs", AnalysisOptions())
    cooldown: Cooldown = _key("cool-down between runner invocations: max_seconds, margin_c", Cooldown())
    label: str = _key("short text appended to the run id", "")
    description: str = _key("free text kept in the manifest", "")

    def to_json(self) -> dict:
        """The config as JSON data, as config.json and the manifest store it."""
        return json.loads(json.dumps(asdict(self)))


def _schema(cls: type) -> dict[str, tuple[bool, Any, str]]:
    """key: (required, default as JSON, one-line meaning shown in errors).

    A nested options object defaults to ``{}``: each of its keys then takes its own default.
    """
    schema = {}
    for f in fields(cls):
        required = f.default is MISSING
        default = None if required else ({} if is_dataclass(f.default) else json.loads(json.dumps(f.default)))
        schema[f.name] = (required, default, f.metadata[_MEANING])
    return schema


TOP_LEVEL_KEYS = _schema(Config)
EXPERIMENT_KEYS = _schema(Experiment)
ANALYSIS_KEYS = _schema(AnalysisOptions)
COOLDOWN_KEYS = _schema(Cooldown)


def load_config(path: str | Path) -> Config:
    """Read, parse and validate a config file; returns the config with defaults filled."""
    config_path = Path(path)
    if config_path.is_dir():
        inside = sorted(config_path.glob("*.json"))
        example = f"--config {inside[0]}" if inside else "--config configs/examples/linux_toy_cnn_fp32.json"
        raise UserError(f"{config_path} is a folder, not a config file",
                        f"pass one JSON config file, e.g. {example}")
    if not config_path.is_file():
        raise UserError(f"config file not found: {config_path}",
                        "pass an existing file, e.g. --config configs/examples/linux_toy_cnn_fp32.json")
    try:
        text = read_text_file(config_path)
    except TextFileError as exc:
        raise UserError(str(exc), "save the config as UTF-8 text (in most editors: Save As, encoding "
                                  "UTF-8), e.g. start from configs/templates/") from None
    except OSError as exc:
        raise UserError(f"cannot read the config {config_path}: {exc.strerror or exc}",
                        "make it readable for you (ls -l shows its owner and mode)") from None
    return validate_config(parse_json(text, str(config_path)), str(config_path))


def parse_json(text: str, source: str) -> Any:
    try:
        return parse_json_text(text, source)
    except json.JSONDecodeError as exc:
        raise UserError(f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                        "fix the JSON syntax there (trailing commas and comments are not allowed)"
                        ) from None
    except TextFileError as exc:
        raise UserError(str(exc), "a config is a short JSON object: start from configs/templates/") from None


def validate_config(data: Any, source: str = "config") -> Config:
    """Check every key, type and range; return the typed config with defaults filled."""
    if not isinstance(data, dict):
        raise UserError(f"{source}: the config must be a JSON object, got {type(data).__name__}",
                        'start from configs/templates/mac_template.json ({"model": ..., "experiments": [...]})')
    config = _check_keys(data, TOP_LEVEL_KEYS, source, "top level")
    _expect(isinstance(config["model"], str) and config["model"].strip(), source, "model",
            "must be a non-empty string path to a .pte file", '"model": "out/artifacts/toy_cnn/toy_cnn_fp32.pte"')
    _expect(config["model"].endswith(".pte"), source, "model",
            f"must name a .pte file, got {config['model']!r}", "export one with scripts/export_model.py")
    if config["output_root"] is not None:
        _expect(isinstance(config["output_root"], str) and config["output_root"].strip(), source,
                "output_root", "must be a non-empty string", '"output_root": "out/runs"')
    for key in ("label", "description"):
        _expect(isinstance(config[key], str), source, key, "must be a string", f'"{key}": "text"')
    _expect(config["label"] == "" or _NAME_RE.match(config["label"]), source, "label",
            "may only hold letters, digits, _ . -", '"label": "mobilenet"')
    experiments = config["experiments"]
    _expect(isinstance(experiments, list) and experiments, source, "experiments",
            "must be a non-empty list", 'add at least one {"name": ..., "runner": ...} entry')
    config["experiments"] = tuple(_validate_experiment(e, i, source) for i, e in enumerate(experiments))
    names = [e.name for e in config["experiments"]]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserError(f"{source}: duplicate experiment name {duplicates[0]!r}",
                        "give every experiment its own name (it becomes its folder in the run directory)")
    config["analysis"] = _validate_analysis(config["analysis"], config["experiments"], source)
    config["cooldown"] = _validate_cooldown(config["cooldown"], source)
    return Config(**config)


def _validate_experiment(raw: Any, index: int, source: str) -> Experiment:
    where = f"experiments[{index}]"
    if not isinstance(raw, dict):
        raise UserError(f"{source}: {where} must be an object, got {type(raw).__name__}",
                        '{"name": "baseline", "runner": "pybind", "runs": 10, "threads": [1]}')
    exp = _check_keys(raw, EXPERIMENT_KEYS, source, where)
    name = exp["name"]
    _expect(isinstance(name, str) and _NAME_RE.match(name), source, f"{where}.name",
            f"must be letters, digits, _ . - (got {name!r})", '"name": "sme2_on"')
    _expect(name not in RESERVED_EXPERIMENT_NAMES, source, f"{where}.name",
            f"{name!r} is reserved for {RESERVED_EXPERIMENT_NAMES.get(name)}", "pick another name")
    where = f"experiments[{index}] ({name})"
    _expect(isinstance(exp["runner"], str) and exp["runner"].strip(), source, f"{where}.runner",
            "must be a non-empty string", '"runner": "pybind"')
    _expect(exp["mode"] in MODES, source, f"{where}.mode", f"must be one of {', '.join(MODES)} "
            f"(got {exp['mode']!r})", '"mode": "timing"')
    _expect(_is_int(exp["runs"]) and exp["runs"] > 0, source, f"{where}.runs",
            f"must be an integer > 0 (got {exp['runs']!r})", '"runs": 10')
    _expect(_is_int(exp["warmup"]) and exp["warmup"] >= 0, source, f"{where}.warmup",
            f"must be an integer >= 0 (got {exp['warmup']!r})", '"warmup": 2')
    threads = exp["threads"]
    _expect(isinstance(threads, list) and threads and all(_is_int(t) and t > 0 for t in threads),
            source, f"{where}.threads", f"must be a non-empty list of integers > 0 (got {threads!r})",
            '"threads": [1, 4]')
    _expect(len(set(threads)) == len(threads), source, f"{where}.threads",
            f"lists a thread count twice ({threads!r})", "list each thread count once")
    _expect(exp["sme2"] in SME2_EXPECTATIONS, source, f"{where}.sme2",
            f"must be one of {', '.join(SME2_EXPECTATIONS)} (got {exp['sme2']!r})", '"sme2": "any"')
    _expect(exp["cpu"] is None or (isinstance(exp["cpu"], str) and exp["cpu"].strip()), source,
            f"{where}.cpu", "must be a string such as max or max,sme=off", '"cpu": "max"')
    if exp["cpu"] is not None:
        _check_emulated_runner(exp["runner"].strip(), name, source)
    _expect(_is_int(exp["timeout_seconds"]) and exp["timeout_seconds"] > 0, source,
            f"{where}.timeout_seconds", f"must be an integer > 0 (got {exp['timeout_seconds']!r})",
            '"timeout_seconds": 900')
    _expect(isinstance(exp["description"], str), source, f"{where}.description", "must be a string",
            '"description": "text"')
    affinity = exp["cpu_affinity"]
    if affinity is not None:
        _expect(isinstance(affinity, list) and affinity and all(_is_int(c) and c >= 0 for c in affinity),
                source, f"{where}.cpu_affinity", f"must be a non-empty list of core numbers >= 0 (got {affinity!r})",
                '"cpu_affinity": [7] (one core) or [4, 5, 6] (a cluster)')
        _expect(len(set(affinity)) == len(affinity), source, f"{where}.cpu_affinity",
                f"lists a core twice ({affinity!r})", "list each core once")
        affinity = tuple(affinity)
    return Experiment(**{**exp, "threads": tuple(threads), "cpu_affinity": affinity})


def _check_emulated_runner(runner: str, name: str, source: str) -> None:
    """``cpu`` means "run under the emulator": only for runners that are aarch64 binaries.

    Allowed: the emulated wheel runner, a built variant of a platform with an emulator
    (``linux-aarch64-*``) and a path (its ELF header is checked when it is resolved).
    """
    if runner in EMULATED_RUNNERS or "/" in runner or runner.startswith("."):
        return
    parts = split_variant_name(runner)
    if parts and PLATFORMS[parts[0]].emulator:
        return
    wheel = next(iter(EMULATED_RUNNERS))
    if parts:
        raise UserError(f"{source}: experiment {name!r} sets \"cpu\" (run emulated) but {runner!r} is a "
                        f"{parts[0]} runner; only aarch64 runners run under qemu-aarch64",
                        f"use linux-aarch64-{parts[1]} (bash scripts/build_runners.sh --platform linux-aarch64), "
                        "or remove \"cpu\"")
    raise UserError(f"{source}: experiment {name!r} sets \"cpu\", which only applies to runner {wheel} "
                    f"or a linux-aarch64 runner (this experiment uses {runner!r}, so it would be ignored)",
                    f"remove \"cpu\" from experiment {name!r}, or use \"runner\": \"{wheel}\"")


def _validate_analysis(raw: Any, experiments: tuple[Experiment, ...], source: str) -> AnalysisOptions:
    if not isinstance(raw, dict):
        raise UserError(f"{source}: analysis must be an object, got {type(raw).__name__}",
                        '"analysis": {"compare_pairs": [["a", "b"]]}')
    analysis = _check_keys(raw, ANALYSIS_KEYS, source, "analysis")
    names = [e.name for e in experiments]
    pairs = analysis["compare_pairs"]
    _expect(isinstance(pairs, list), source, "analysis.compare_pairs", "must be a list of pairs",
            '"compare_pairs": [["sme2_on", "sme2_off"]]')
    for i, pair in enumerate(pairs):
        _expect(isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair),
                source, f"analysis.compare_pairs[{i}]", f"must be a list of two experiment names (got {pair!r})",
                '["sme2_on", "sme2_off"]')
        for member in pair:
            if member not in names:
                raise UserError(f"{source}: analysis.compare_pairs[{i}] names unknown experiment {member!r}"
                                + _nearest_hint(member, names),
                                f"use one of the experiment names: {', '.join(names)}")
    rounds = analysis["interleave_rounds"]
    _expect(_is_int(rounds) and rounds >= 0, source, "analysis.interleave_rounds",
            f"must be an integer >= 0 (got {rounds!r})", '"interleave_rounds": 6')
    if rounds > 1:
        _check_interleaving(pairs, {e.name: e for e in experiments}, rounds, source)
    return AnalysisOptions(compare_pairs=tuple((a, b) for a, b in pairs), interleave_rounds=rounds)


def _check_interleaving(pairs: list, by_name: dict[str, Experiment], rounds: int, source: str) -> None:
    """Interleaved rounds need pairs that can alternate: same thread counts (or one each), enough runs,
    no kernel trace."""
    where = "analysis.interleave_rounds"
    _expect(pairs, source, where, "needs analysis.compare_pairs to say which experiments alternate",
            '"compare_pairs": [["sme2_on", "sme2_off"]], "interleave_rounds": 6')
    seen: set[str] = set()
    for a, b in pairs:
        if a == b:
            raise UserError(f"{source}: {where}: the pair [{a!r}, {b!r}] compares an experiment with itself",
                            "interleave two different experiments (copy one under another name for an A/A check)")
        for name in (a, b):
            if name in seen:
                raise UserError(f"{source}: {where}: experiment {name!r} is in two compare pairs, so its "
                                "rounds cannot alternate with both", "put each experiment in one pair when "
                                "interleaving, or set \"interleave_rounds\": 0")
            seen.add(name)
            exp = by_name[name]
            if exp.mode != "timing":
                raise UserError(f"{source}: {where}: experiment {name!r} is an xnntrace experiment (its "
                                "kernel trace comes from one process)", "interleave timing experiments only")
            if exp.runs < rounds:
                raise UserError(f"{source}: {where} is {rounds} but experiment {name!r} has only "
                                f"{exp.runs} runs (each round needs at least one timed run)",
                                f"set \"runs\" to {rounds} or more, or lower interleave_rounds")
        a_threads, b_threads = by_name[a].threads, by_name[b].threads
        if sorted(a_threads) != sorted(b_threads) and not len(a_threads) == len(b_threads) == 1:
            raise UserError(f"{source}: {where}: {a!r} runs threads {list(a_threads)} and {b!r} "
                            f"runs {list(b_threads)}, so their rounds cannot pair up",
                            "give both experiments of an interleaved pair the same \"threads\" list, "
                            "or one thread count each")


def _validate_cooldown(raw: Any, source: str) -> Cooldown:
    if not isinstance(raw, dict):
        raise UserError(f"{source}: cooldown must be an object, got {type(raw).__name__}",
                        '"cooldown": {"max_seconds": 120, "margin_c": 2}')
    cooldown = _check_keys(raw, COOLDOWN_KEYS, source, "cooldown")
    wait = cooldown["max_seconds"]
    _expect(wait is None or (_is_int(wait) and wait >= 0), source, "cooldown.max_seconds",
            f"must be an integer >= 0 (got {wait!r})", '"max_seconds": 120')
    margin = cooldown["margin_c"]
    _expect(isinstance(margin, (int, float)) and not isinstance(margin, bool) and margin >= 0, source,
            "cooldown.margin_c", f"must be a number >= 0 (got {margin!r})", '"margin_c": 2')
    return Cooldown(max_seconds=wait, margin_c=float(margin))


def _check_keys(raw: dict, schema: dict[str, tuple[bool, Any, str]], source: str, where: str) -> dict:
    for key in raw:
        if key not in schema:
            raise UserError(f"{source}: unknown key {key!r} in {where}" + _nearest_hint(key, list(schema)),
                            f"valid keys there: {', '.join(schema)}")
    filled = {}
    for key, (required, default, meaning) in schema.items():
        if key in raw:
            filled[key] = raw[key]
        elif required:
            raise UserError(f"{source}: missing key {key!r} in {where} ({meaning})",
                            f"add \"{key}\" (see configs/templates/)")
        else:
            filled[key] = json.loads(json.dumps(default))  # fresh copy of mutable defaults
    return filled


def _nearest_hint(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _expect(ok: Any, source: str, where: str, problem: str, example: str) -> None:
    if not ok:
        raise UserError(f"{source}: {where} {problem}", f"for example {example}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def model_path(config: Config) -> Path:
    return resolve_repo_path(config.model)


def output_root(config: Config) -> Path:
    return resolve_repo_path(config.output_root) if config.output_root else RUNS_DIR


def check_model_file(config: Config) -> Path:
    """The model file must exist before anything runs; the fix says how to make it."""
    path = model_path(config)
    if path.is_dir():
        check_pte(path)               # "is a folder, not a .pte file"
    if not path.is_file():
        stem = path.stem
        model, _, dtype = stem.rpartition("_")
        fix = (f"export it first: python scripts/export_model.py --model {model} --dtype {dtype}"
               if model and dtype in ("fp32", "fp16", "int8") else
               "export the model with scripts/export_model.py or correct the \"model\" path")
        raise UserError(f"model file not found: {path}", fix)
    return path
