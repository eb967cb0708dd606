#!/usr/bin/env bash
# Create or update .venv-vision: the environment for models that need timm + torchvision
# (models/edgetam_image_encoder), from scripts/requirements-vision.txt with PyPI's builds.
# Run with --help for the options. The same set-up as setup_repo.sh, which finds the Python.
set -euo pipefail

exec bash "$(dirname "${BASH_SOURCE[0]}")/setup_repo.sh" --environment vision "$@"
