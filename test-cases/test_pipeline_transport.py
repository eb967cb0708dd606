"""The host and the Android transport both implement the ``Transport`` protocol.

The orchestration (``pipeline/run.py``) reaches the CPU only through these members; a
transport whose method drifted (a parameter renamed, dropped or added) would fail a run
halfway, on a phone, so its signature is compared with the protocol's here.
"""
from __future__ import annotations

import inspect
import typing

import pytest

from sme2prof.pipeline import run
from sme2prof.pipeline.android import AndroidTransport
from sme2prof.pipeline.run import PIPELINE_SCRIPTS, HostTransport
from sme2prof.pipeline.transport import Transport

METHODS = sorted(name for name, value in vars(Transport).items()
                 if callable(value) and not name.startswith("_"))


def test_the_protocol_names_every_step_a_run_needs():
    assert METHODS == ["check_runner", "check_runner_name", "command", "describe", "execute",
                       "kernel_trace_extra", "plan_lines", "prepare", "read_conditions"]
    assert set(typing.get_type_hints(Transport)) == {"kind", "script", "pins_cores"}


@pytest.mark.parametrize("transport", [HostTransport, AndroidTransport])
def test_transport_implements_every_member_with_the_protocol_signature(transport):
    for name in METHODS:
        assert str(inspect.signature(getattr(transport, name))) == str(inspect.signature(getattr(Transport, name))), name
    assert PIPELINE_SCRIPTS[transport.kind] == transport.script
    assert transport.pins_cores == (transport.kind == "android")


def test_orchestration_is_typed_against_the_protocol():
    for function in (run.run_pipeline, run.build_plan, run._execute, run._run_job, run.plan_commands):
        assert typing.get_type_hints(function)["transport"] is Transport, function.__name__
