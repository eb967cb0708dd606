"""Shared logic of the sme-executorch-profiling kit, one subpackage per stage of the flow.

The entry scripts in ``scripts/`` stay thin: they put this folder on ``sys.path`` and
call one ``*_main`` function from a stage's ``cli.py``, so the kit runs from a sparse
checkout with nothing of ours installed.

The flow, and where each stage lives::

    setup/      is this machine ready? pinned environments, tool checks   validate_setup.py, setup_repo.sh
    export/     model packages -> .pte + .etrecord + export record        export_model.py
    runners/    which binary runs a .pte: registry, builds, emulation     build_runners.sh
    pipeline/   config -> run directory (ETDumps, logs, manifest)        mac_pipeline.py, android_pipeline.py
    analysis/   run directory -> tables, charts, report; validation      analyze_results.py, validate_results.py
    pages/      the learning path: Hugo build, checks, bundle, archive    site_tools.py
    workflow/   commands that chain the stages end to end               profile_model.py, run_quick_test.py

Each stage reads only the files the stage before it wrote (contracts:
``export/artifacts.py``, ``pipeline/run_layout.py``, ``runners/spec.py``), never its
in-memory state, so any stage can be re-run alone. A stage's commands live in its
``cli.py``; everything else in a stage is importable logic with tests.

Shared by every stage, and nothing else at this level: ``errors`` (the ``error:``/``fix:``
convention and the entry-point glue), ``paths`` (repository root, ``out/``), ``fileio``
(atomic writes, hashes, time stamps), ``host_info`` (this machine and its CPU features).
"""
