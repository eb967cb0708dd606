"""Pipeline stage: a config's experiments -> a run directory (ETDumps, logs, manifest).

``config`` validates a config before anything runs, ``run`` orchestrates jobs through a
transport (this host, or ``android`` over adb), ``manifest`` and ``run_layout`` are the
run-directory contract the analysis reads.
"""
