#!/usr/bin/env python3
"""Stand-in for the learning-paths repository's tools/verify_index_fields.py, written from
its documented behaviour (not its code), for testing `make pr` without that repository.

Checks the changed files it is given that are a learning path's own ``_index.md``
(content/learning-paths/<category>/<path>/_index.md; deeper ones are skipped): the file
starts with front matter that holds every required field. Exit 1 on any problem.
"""
import sys
from pathlib import Path

import yaml

REQUIRED = ("title", "minutes_to_complete", "who_is_this_for", "learning_objectives",
            "prerequisites", "author", "skilllevels", "subjects", "armips",
            "tools_software_languages", "operatingsystems", "further_reading", "weight",
            "layout", "learning_path_main_page")

failed = False
for arg in sys.argv[1:]:
    parts = Path(arg).parts
    if not arg.endswith("_index.md") or "learning-paths" not in parts or not Path(arg).is_file():
        continue
    if len(parts) != parts.index("learning-paths") + 4:
        print(f"Skipping {arg}: not a learning path index file")
        continue
    text = Path(arg).read_text(encoding="utf-8")
    if not text.startswith("---"):
        print(f"Invalid or missing YAML frontmatter in {arg}")
        failed = True
        continue
    meta = yaml.safe_load(text.split("---")[1]) or {}
    missing = [field for field in REQUIRED if field not in meta]
    print(f"{arg}: " + (f"missing {', '.join(missing)}" if missing else "all required fields present"))
    failed = failed or bool(missing)
sys.exit(1 if failed else 0)
