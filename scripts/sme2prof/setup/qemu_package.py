"""Take a statically linked ``qemu-aarch64`` out of Debian's ``qemu-user`` package, without dpkg.

Why: QEMU 11.1 is the first user-mode emulator whose ``-cpu max`` exposes SME2 (QEMU 10
stops at SME), and most distributions ship older releases. Debian's ``qemu-user`` package
carries a statically linked ``qemu-aarch64`` that runs on any x86_64 Linux, so the kit
downloads that one package, checks its sha256 against the value pinned below, and copies the
one binary into ``out/tools/qemu/``. Nothing is installed system-wide and no root is needed:
a ``.deb`` is an ``ar`` archive whose ``data.tar.xz`` holds the files, and Python's standard
library reads both. The binary and its record (version, package, URL, sha256) appear only
when everything succeeded (a temporary folder renamed into place), so a failed download or a
checksum mismatch leaves nothing half-installed.
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from sme2prof.errors import UserError
from sme2prof.fileio import write_json_atomic

# The package the kit pins: Debian trixie-backports' qemu-user (QEMU 11.1.3). Override with
# SME2PROF_QEMU_DEB_URL and SME2PROF_QEMU_DEB_SHA256 when the mirror has moved on to a newer build.
DEB_VERSION = "1:11.1.3+ds-2~bpo13+1"
DEB_URL = ("http://deb.debian.org/debian/pool/main/q/qemu/"
           "qemu-user_11.1.3+ds-2~bpo13+1_amd64.deb")
DEB_SHA256 = "8ecfbda5a10061564458a33842f4526ac4186600a0809b2adc36784c6db8081e"
URL_VARIABLE = "SME2PROF_QEMU_DEB_URL"
SHA_VARIABLE = "SME2PROF_QEMU_DEB_SHA256"
MEMBER = "usr/bin/qemu-aarch64"
DOWNLOAD_TIMEOUT_S = 120
RECORD_NAME = "qemu-aarch64.json"


@dataclass(frozen=True)
class PackageSource:
    """Which package to fetch and the checksum it must have."""

    url: str
    sha256: str
    version: str

    @classmethod
    def pinned(cls) -> "PackageSource":
        url = os.environ.get(URL_VARIABLE) or DEB_URL
        sha = (os.environ.get(SHA_VARIABLE) or DEB_SHA256).lower()
        version = DEB_VERSION if url == DEB_URL else Path(url).name
        return cls(url=url, sha256=sha, version=version)


def download(url: str, timeout: float = DOWNLOAD_TIMEOUT_S) -> bytes:
    """The whole package in memory (about 70 MB); a network failure becomes a UserError."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - pinned http(s) URL
            return response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise UserError(f"could not download the QEMU package {url}: {exc}",
                        f"check the network to the Debian mirror and re-run; if the package moved, set "
                        f"{URL_VARIABLE} and {SHA_VARIABLE} to a current qemu-user .deb (11.1 or newer)") from None


def check_sha256(data: bytes, expected: str, url: str) -> str:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise UserError(f"the QEMU package's sha256 is {actual}, expected {expected} ({url})",
                        "nothing was installed; re-run to download again, or set "
                        f"{SHA_VARIABLE} if you deliberately use another package")
    return actual


def ar_members(data: bytes) -> dict[str, bytes]:
    """Members of a Unix ``ar`` archive (the ``.deb`` container) by name."""
    if data[:8] != b"!<arch>\n":
        raise UserError("the downloaded file is not a .deb (no ar header)",
                        f"check {URL_VARIABLE}: it must point at a qemu-user .deb")
    members: dict[str, bytes] = {}
    offset = 8
    while offset + 60 <= len(data):
        header = data[offset:offset + 60]
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        members[name] = data[offset + 60:offset + 60 + size]
        offset += 60 + size + (size % 2)
    return members


def extract_member(deb: bytes, member: str = MEMBER) -> bytes:
    """One file from the package's ``data.tar.*`` (xz, gz, zstd-less Debian packages)."""
    members = ar_members(deb)
    data_name = next((n for n in members if n.startswith("data.tar")), None)
    if data_name is None:
        raise UserError("the .deb has no data.tar member", f"check {URL_VARIABLE}")
    if data_name.endswith(".zst"):
        raise UserError("the .deb is zstd-compressed, which Python cannot unpack without extra modules",
                        f"point {URL_VARIABLE} at a Debian (xz-compressed) qemu-user package")
    with tarfile.open(fileobj=io.BytesIO(members[data_name]), mode="r:*") as tar:
        for info in tar.getmembers():
            if info.name.lstrip("./") == member and info.isfile():
                extracted = tar.extractfile(info)
                assert extracted is not None
                return extracted.read()
    raise UserError(f"the package has no {member}", f"check {URL_VARIABLE}: it must be qemu-user for amd64")


def install_binary(binary: bytes, tools_dir: Path, record: dict) -> Path:
    """Place ``qemu-aarch64`` and its record in ``tools_dir`` in one rename (old copy replaced)."""
    tools_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{tools_dir.name}.", dir=tools_dir.parent))
    staging.chmod(0o755)   # mkdtemp makes it private; the emulator is for every user of the checkout
    try:
        target = staging / "qemu-aarch64"
        target.write_bytes(binary)
        target.chmod(0o755)
        write_json_atomic(staging / RECORD_NAME, record)
        previous = tools_dir.with_name(f".{tools_dir.name}.previous")
        if tools_dir.exists():
            shutil.rmtree(previous, ignore_errors=True)
            tools_dir.rename(previous)
        staging.rename(tools_dir)
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tools_dir / "qemu-aarch64"


def fetch_and_install(source: PackageSource, tools_dir: Path) -> tuple[Path, dict]:
    """Download, verify, extract and install; returns the binary and its record."""
    deb = download(source.url)
    sha = check_sha256(deb, source.sha256, source.url)
    binary = extract_member(deb)
    record = {**asdict(source), "sha256": sha, "package": "qemu-user", "member": MEMBER,
              "binary_sha256": hashlib.sha256(binary).hexdigest()}
    return install_binary(binary, tools_dir, record), record
