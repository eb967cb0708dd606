"""One process owns a run: a lock file in the run directory.

Why: two ``--resume`` of one run at once would both run jobs, interleave their logs and
mark results ok that were measured while competing for the CPUs; a runner left behind
by a killed pipeline would overwrite the result a resumed run writes. So every process
that writes into a run directory (the pipeline, the analysis of ``<run>/analysis``)
holds ``<run>/.lock`` while it works.

How: ``flock`` on the lock file, which the kernel releases when the last process holding
it ends, so a crash never leaves a lock that needs deleting by hand, and stale-lock
detection is exact. Runner children inherit the locked descriptor (``held_fds`` goes to
``pass_fds``), so the run stays locked while a runner of a killed pipeline still runs.
The file holds who owns the run (pid, host, start time, command, runner pid) for the
message the next process prints. A lock file whose flock is free was left by a process
that died: it is taken over, and said so. Where the filesystem has no flock (some
network file systems) the pid is checked instead: a lock of a pid that no longer exists
on this host is stale.
"""
from __future__ import annotations

import errno
import json
import os
import socket
import sys
from pathlib import Path

from sme2prof.errors import UserError
from sme2prof.fileio import utc_now_iso
from sme2prof.paths import display_path

LOCK_NAME = ".lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - the kit runs on macOS and Linux
    fcntl = None  # type: ignore[assignment]

_held: dict[Path, "RunLock"] = {}       # locks this process holds, by run directory


class RunBusy(UserError):
    """Another live process works on this run."""


def held_fds() -> tuple[int, ...]:
    """Descriptors of the locks this process holds (children inherit them: see the docstring)."""
    return tuple(lock.fd for lock in _held.values() if lock.fd is not None)


def note_child(pid: int, argv: list[str]) -> None:
    """Record the runner child in every lock held, for the message a blocked process prints."""
    for lock in _held.values():
        lock.write_owner(child={"pid": pid, "command": " ".join(argv)[:300]})


class RunLock:
    """``with RunLock(run_dir, "resume"):`` holds the run; re-entrant within one process."""

    def __init__(self, run_dir: Path, purpose: str) -> None:
        self.run_dir = Path(run_dir).resolve()
        self.path = self.run_dir / LOCK_NAME
        self.purpose = purpose
        self.fd: int | None = None
        self.outer: RunLock | None = None
        self.took_over: dict | None = None      # the dead owner whose lock was taken over

    def __enter__(self) -> "RunLock":
        self.outer = _held.get(self.run_dir)
        if self.outer is None:
            self.acquire()
            _held[self.run_dir] = self
        return self

    def __exit__(self, *exc_info) -> None:
        if self.outer is None:
            _held.pop(self.run_dir, None)
            self.release()

    # -------------------------------------------------------------------------------------
    def acquire(self) -> None:
        for _ in range(5):              # another process may unlink the file between open and lock
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                locked = self._lock(fd)
            except BaseException:
                os.close(fd)
                raise
            if not locked:
                os.close(fd)
                continue
            self.fd = fd
            previous = _read_owner(fd)
            if previous:
                self.took_over = previous
                print(f"note: {display_path(self.run_dir)}: took over the lock of pid {previous.get('pid')} "
                      f"({previous.get('purpose', 'a pipeline')} started {previous.get('started_at')}), "
                      "which is no longer running", file=sys.stderr, flush=True)
            self.write_owner()
            return
        raise RunBusy(f"could not lock {display_path(self.path)}: it keeps changing",
                      "another process is starting and stopping on this run; try again")

    def _lock(self, fd: int) -> bool:
        """True when ``fd`` now holds the lock on the file at ``self.path``; False to retry."""
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise self._busy(_read_owner(fd)) from None
            except OSError as exc:
                if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                    raise
                return self._lock_by_pid(fd)
        else:
            return self._lock_by_pid(fd)
        try:                             # False: the owner released (and unlinked) it meanwhile
            return os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            return False

    def _lock_by_pid(self, fd: int) -> bool:
        owner = _read_owner(fd)
        if owner and (_pid_alive(owner, owner.get("pid")) or _pid_alive(owner, (owner.get("child") or {}).get("pid"))):
            raise self._busy(owner)
        return True

    def _busy(self, owner: dict) -> RunBusy:
        where = f"pid {owner.get('pid')} on {owner.get('host')}, {owner.get('purpose', 'a pipeline')} " \
                f"since {owner.get('started_at')}" if owner else "another process"
        child = owner.get("child") if owner else None
        if owner and child and not _pid_alive(owner, owner.get("pid")) and _pid_alive(owner, child.get("pid")):
            return RunBusy(f"run {display_path(self.run_dir)} is still in use by a runner (pid {child.get('pid')}) "
                           f"that pipeline pid {owner.get('pid')} started before it ended",
                           f"wait for it to finish (seconds to minutes), or stop it: kill {child.get('pid')}; "
                           f"then run the command again")
        return RunBusy(f"run {display_path(self.run_dir)} is in use by another process ({where})",
                       "wait for it to finish, or stop it (Ctrl-C, or kill <pid>); two processes on one run "
                       "would mix their logs and measure while competing for the CPUs")

    def write_owner(self, child: dict | None = None) -> None:
        if self.fd is None:
            return
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "purpose": self.purpose,
                 "started_at": getattr(self, "started_at", None) or utc_now_iso(),
                 "command": " ".join(sys.argv)[:300]}
        self.started_at = owner["started_at"]
        if child:
            owner["child"] = child
        data = (json.dumps(owner) + "\n").encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.unlink(self.path)         # while still locked: the next process creates a fresh one
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None


def _read_owner(fd: int) -> dict:
    try:
        raw = os.pread(fd, 4096, 0)
        owner = json.loads(raw.decode("utf-8", errors="replace")) if raw.strip() else {}
    except (OSError, ValueError):
        return {"pid": None, "note": "unreadable lock file"}
    return owner if isinstance(owner, dict) else {}


def _pid_alive(owner: dict, pid) -> bool:
    """Is ``pid`` of the owner's host running? On another host nobody can tell: assume it is."""
    if owner.get("host") != socket.gethostname():
        return True
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
