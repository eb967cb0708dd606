"""Workflow stage: commands that chain set-up, export, pipeline and analysis end to end
(``profile_model.py``, ``run_quick_test.py`` behind ``make smoke``)."""
