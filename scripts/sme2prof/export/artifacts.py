"""Names of the export artifacts: where a .pte's ETRecord and export record live.

Kept free of torch so the pipeline and the analysis can find an export's files
without paying for a torch import.
"""
from __future__ import annotations

from pathlib import Path

from sme2prof.paths import ARTIFACTS_DIR

EXPORT_JSON_SUFFIX = ".export.json"
ETRECORD_SUFFIX = ".etrecord"


def artifact_stem(model_name: str, dtype: str, int8_mode: str = "static") -> str:
    """``mobilenet_v3_small_int8``; dynamic int8 gets its own stem so it never overwrites static."""
    suffix = "_dynamic" if dtype == "int8" and int8_mode == "dynamic" else ""
    return f"{model_name}_{dtype}{suffix}"


def default_out_dir(model_name: str, artifacts_dir: Path | None = None) -> Path:
    return (artifacts_dir or ARTIFACTS_DIR) / model_name


def export_json_path_for(pte_path: Path | str) -> Path:
    """``out/artifacts/m/m_fp32.pte`` -> ``out/artifacts/m/m_fp32.export.json``."""
    pte_path = Path(pte_path)
    return pte_path.with_name(pte_path.stem + EXPORT_JSON_SUFFIX)


def etrecord_path_for(pte_path: Path | str) -> Path:
    """``out/artifacts/m/m_fp32.pte`` -> ``out/artifacts/m/m_fp32.etrecord``."""
    pte_path = Path(pte_path)
    return pte_path.with_name(pte_path.stem + ETRECORD_SUFFIX)
