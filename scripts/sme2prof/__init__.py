"""Shared logic of the sme-executorch-profiling kit.

The entry scripts in ``scripts/`` stay thin: they put this folder on ``sys.path`` and
call one function here, so the kit runs from a sparse checkout with nothing of ours
installed.
"""
