"""Workflow stage: commands that chain set-up, export, pipeline and analysis end to end."""
