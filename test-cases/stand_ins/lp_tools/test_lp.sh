#!/usr/bin/env bash
# Stand-in for the learning-paths repository's tools/test_lp.sh + maintenance.py -i, written
# from their documented behaviour (not their code), for testing `make pr` without that
# repository: every folder holding a changed Markdown file is treated as a learning path.
# No _index.md: a warning. Front matter that is not a mapping: a crash (exit 1).
# No test_maintenance: true: "maintenance is turned off" (a pass).
set -euo pipefail
dirs=$(for f in "$@"; do dirname "$f"; done | sort -u)
echo "Unique content paths: $(echo $dirs)"
for d in $dirs; do
  if [ ! -f "$d/_index.md" ]; then
    echo "[WARNING] No _index.md found in Learning Path $d"
    continue
  fi
  python3 - "$d/_index.md" <<'PY'
import sys, yaml
text = open(sys.argv[1], encoding="utf-8").read()
meta = yaml.safe_load(text.split("---")[1])
if not isinstance(meta, dict):
    sys.exit(f"front matter of {sys.argv[1]} is not a mapping")
if meta.get("test_maintenance") is True:
    print(f"[INFO] Tests failed in test suite: the stand-in cannot run tests ({sys.argv[1]})")
else:
    print(f"[WARNING] Learning Path {sys.argv[1].rsplit('/', 1)[0]} maintenance is turned off.")
PY
done
