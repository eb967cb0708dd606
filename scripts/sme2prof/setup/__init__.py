"""Set-up stage: is this machine ready for each stage, and the pinned Python environments.

``checks`` (Python, pins, ExecuTorch, models) and ``tool_checks`` (runners, cmake,
emulator, adb, Hugo) each return results with their fix; ``cli`` is ``validate_setup.py``.
"""
