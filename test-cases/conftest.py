"""Shared pytest fixtures: repository paths and the real-run fixtures.

Tests run the kit for real (export, runtime, Inspector), so they import the shared
package from ``scripts/`` exactly as the entry scripts do.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPTS_DIR = REPO_ROOT / "scripts"
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
REAL_RUNS_DIR = FIXTURES_DIR / "real-runs"

if str(SCRIPTS_DIR) not in sys.path:
    sys.path.insert(0, str(SCRIPTS_DIR))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def real_runs_dir() -> Path:
    return REAL_RUNS_DIR


@pytest.fixture(scope="session")
def python_exe() -> str:
    """The interpreter running the tests (the kit's .venv under `make test`)."""
    return sys.executable

