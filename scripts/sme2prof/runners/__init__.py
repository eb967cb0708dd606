"""Runners stage: which binary executes a ``.pte``, how it is built, and what it promises.

``registry`` holds every fact about platforms, variants and runner kinds; ``resolve``
turns a config's runner name into a ``spec.ResolvedRunner`` and refuses misleading
runner/mode/SME2 pairs; ``source_build``/``build_run``/``prereqs`` build ``executor_runner``
variants; ``wheel_build``/``aarch64_wheel`` the small runner against the pip wheel;
``emulation`` runs aarch64 runners under qemu-aarch64; ``pybind_worker`` is the pybind runner.
"""
