# sme-executorch-profiling: the two commands a user needs are `make quickstart` and
# `make test`; everything else is here for the pages, the bundle and CI.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
VISION_PY := .venv-vision/bin/python
OUT ?= out

.PHONY: help setup quickstart smoke test site serve bundle archive pr emulate clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

setup: ## create .venv with pinned dependencies (re-runs in seconds)
	@bash scripts/setup_repo.sh

quickstart: setup ## set up, export mobilenet_v3_small, profile it with the fastest runner here, analyse, time each stage
	@$(PY) scripts/quickstart.py

# The smoke test's stdout is one JSON object (stages ready / not ready); the set-up's lines
# go to stderr. A failed set-up still ends in a JSON object: there is no venv to run in.
SMOKE_SETUP_FAILED := {"exit_code": 1, "ready": false, "error": "make setup failed (its error and fix lines are above, on stderr)", "fix": "make setup", "stages": [{"stage": "set-up", "status": "not ready"}]}
smoke: ## set-up, then a tiny export, run, analysis and validate_results: one JSON object, ready per stage
	@bash scripts/setup_repo.sh >&2 || { echo '$(SMOKE_SETUP_FAILED)'; exit 1; }
	@$(PY) scripts/run_quick_test.py --json

test: setup ## set up (kit, emulation tools, aspell, .venv-vision), then run every test
	@if [ "$$(uname -sm)" = "Linux x86_64" ]; then bash scripts/install_emulation_tools.sh; fi
	@$(PY) scripts/site_tools.py install-spelling-tools
	@bash scripts/setup_vision_env.sh
	@echo "== EdgeTAM tests (they need timm, so they run in .venv-vision)"
	@$(VISION_PY) -m pytest -q -p no:cacheprovider test-cases/test_edgetam.py
	@echo "== every other test (.venv)"
	@$(PY) -m pytest test-cases

site: setup ## build the pages with the pinned Hugo into out/site/ (fails on any warning)
	@$(PY) scripts/site_tools.py build

serve: setup ## preview the pages on http://127.0.0.1:1313/
	@$(PY) scripts/site_tools.py serve

bundle: setup ## lay out pages + kit under out/bundle/ as the learning-paths repository expects
	@$(PY) scripts/site_tools.py bundle

archive: setup ## move the current page set to archive/<yyyy-mm-dd>/
	@$(PY) scripts/site_tools.py archive

# `make pr ALP=../arm-learning-paths DRY_RUN=1` (or `make --dry-run pr ALP=...`) only lists
# the changes: the recipe line starts with + so that make's own --dry-run still runs it.
ALP ?=
pr: setup ## ALP=<arm-learning-paths checkout>: archive the path there, lay the bundle in on a new branch, run its PR checks
	+@$(PY) scripts/site_tools.py pr --alp "$(ALP)" $(if $(or $(DRY_RUN),$(findstring n,$(firstword -$(MAKEFLAGS)))),--dry-run)

EMULATE_CONFIG ?= configs/examples/emulated_sme_toy_cnn.json
emulate: setup ## watch XNNPACK switch to SME kernels under qemu-aarch64 (no Arm hardware needed)
	@bash scripts/install_emulation_tools.sh
	@SME2PROF_PYTHON=$(PY) bash scripts/build_runners.sh --wheel --platform linux-aarch64
	@$(PY) scripts/export_model.py --model toy_cnn --dtype fp32
	@$(PY) scripts/mac_pipeline.py --config $(EMULATE_CONFIG)


.PHONY: edgetam test-edgetam
edgetam: ## set up .venv-vision (timm) and export the EdgeTAM image encoder (fp32, 1024x1024)
	@bash scripts/setup_vision_env.sh
	@$(VISION_PY) scripts/export_model.py --model edgetam_image_encoder --dtype fp32

test-edgetam: ## set up .venv-vision and run the EdgeTAM export/runtime test in it
	@bash scripts/setup_vision_env.sh
	@$(VISION_PY) -m pytest test-cases/test_edgetam.py

clean: ## remove generated files (out/); keeps .venv
	rm -rf $(OUT)
