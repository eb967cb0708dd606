"""Around every runner invocation: cool down, read the CPU's conditions, keep them in the manifest.

Why one place: the host and the phone pipelines must record the same things the same
way, so the report can put each result next to the conditions it ran under. The
manifest gets ``conditions_baseline`` (the run's first reading), ``invocations`` (every
runner process in the order it ran, with its readings before and after and any
cool-down wait), and each result a ``conditions`` summary (cores, throttling, heat).
"""
from __future__ import annotations

from sme2prof.pipeline import conditions as cond
from sme2prof.pipeline.config import Config
from sme2prof.pipeline.cooldown import max_wait, wait_until_cool
from sme2prof.pipeline.run_layout import utc_now_iso
from sme2prof.pipeline.transport import Job, Transport


class Discipline:
    def __init__(self, transport: Transport, config: Config, manifest: dict) -> None:
        self.transport = transport
        self.margin_c = config.cooldown.margin_c
        self.limit_s = max_wait(config.cooldown, transport.kind)
        self.manifest = manifest
        self._last: dict | None = None
        manifest.setdefault("invocations", [])
        manifest["cooldown"] = {"max_seconds": self.limit_s, "margin_c": self.margin_c}

    def before(self, job: Job) -> dict:
        """Cool down (not before the run's first invocation), then read; the invocation's record."""
        baseline = self.manifest.get("conditions_baseline")
        waited = None
        self._last = None
        if baseline is not None and self.limit_s > 0:
            waited = wait_until_cool(self._temperature, baseline.get("cpu_temp_c"), self.margin_c, self.limit_s)
            if waited["target_c"] is not None and waited["from_c"] > waited["target_c"]:
                state = "cooled" if waited["reached"] else "still hot"
                print(f"    cool-down: {waited['waited_s']:.0f} s, {waited['from_c']} -> {waited['to_c']} °C "
                      f"(target {waited['target_c']} °C, {state})", flush=True)
        reading = self._last or self.transport.read_conditions()   # the wait's last reading is "before"
        if baseline is None:
            self.manifest["conditions_baseline"] = baseline = reading
        record = {"index": len(self.manifest["invocations"]) + 1, "experiment": job.experiment.name,
                  "threads": job.threads, "round": job.round, "rounds": job.rounds,
                  "timed_runs": job.timed_runs, "started_at": utc_now_iso(),
                  "cpu_affinity": job.cpu_affinity, "affinity_source": job.affinity_source,
                  "cooldown": waited, "before": reading, "after": None}
        self.manifest["invocations"].append(record)
        return record

    def after(self, job: Job, record: dict, returncode: int | None, wall_seconds: float | None) -> None:
        record["after"] = self.transport.read_conditions()
        record["returncode"], record["wall_seconds"] = returncode, wall_seconds
        self._summarise(job)

    def _temperature(self) -> float | None:
        self._last = self.transport.read_conditions()
        return self._last.get("cpu_temp_c")

    def _summarise(self, job: Job) -> None:
        """The result's ``conditions``: over all its invocations (rounds) so far."""
        mine = [r for r in self.manifest["invocations"] if r["experiment"] == job.experiment.name
                and r["threads"] == job.threads and r.get("after") is not None][-job.rounds:]
        baseline_c = (self.manifest.get("conditions_baseline") or {}).get("cpu_temp_c")
        readings = [snap for r in mine for snap in (r["before"], r["after"])]
        temps = [s["cpu_temp_c"] for s in readings if s.get("cpu_temp_c") is not None]
        throttled = sorted({c for s in readings for c in cond.throttled_cores(s, job.cpu_affinity)})
        hottest = max(temps) if temps else None
        starts = [r["before"]["cpu_temp_c"] for r in mine if r["before"].get("cpu_temp_c") is not None]
        start = max(starts) if starts else None
        job.result["conditions"] = {
            "cpu_affinity": job.cpu_affinity, "affinity_source": job.affinity_source,
            "available": any(s.get("available") for s in readings),
            "before": cond.brief(mine[0]["before"], job.cpu_affinity),
            "after": cond.brief(mine[-1]["after"], job.cpu_affinity),
            "max_temp_c": hottest, "start_temp_c": start, "baseline_temp_c": baseline_c,
            # started hotter than the run's first reading by more than the margin: the cool-down ran out
            "hotter_than_baseline_c": (round(start - baseline_c, 1) if start is not None and baseline_c is not None
                                       and start > baseline_c + self.margin_c else None),
            "throttled_cores": throttled,
            "cooldown_waits_s": [r["cooldown"]["waited_s"] for r in mine if r.get("cooldown")],
            "invocations": [r["index"] for r in mine]}
