"""Set-up stage: is this machine ready for each stage, and the pinned Python environments.

``checks`` (Python, pins, ExecuTorch, models) and ``tool_checks`` (runners, cmake,
emulator, adb, Hugo) each return results with their fix; ``cli`` is ``validate_setup.py``.
``environment`` creates and updates ``.venv`` and ``.venv-vision`` (one program for both,
``setup_environment.py``, started by ``setup_repo.sh`` / ``setup_vision_env.sh``), with
``prerequisites`` before it and ``executorch_sources`` for ``--with-executorch``;
``commands`` runs (or, in a dry run, prints) what changes the machine.
"""
