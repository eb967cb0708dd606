"""CPU feature detection: the record that says whether SME2 could run at all.

The parsers are tested on real output layouts from machines this CI does not have
(an Apple M4 Mac, an SME2 Android phone), and the live description on this host.
"""
from __future__ import annotations

import platform

from sme2prof.host_info import (describe_host, features_from_hwcaps, host_platform, parse_proc_cpuinfo,
                                parse_sysctl_arm)

# `sysctl hw.optional.arm` on an Apple M4 Pro (macOS 15), abridged.
SYSCTL_M4 = """hw.optional.arm.FEAT_FP16: 1
hw.optional.arm.FEAT_DotProd: 1
hw.optional.arm.FEAT_I8MM: 1
hw.optional.arm.FEAT_BF16: 1
hw.optional.arm.FEAT_SME: 1
hw.optional.arm.FEAT_SME2: 1
hw.optional.arm.SME_F32F32: 1
hw.optional.arm.sme_max_svl_b: 64
hw.optional.arm.FEAT_SVE: 0
"""
# The same on an Apple M1: no SME at all.
SYSCTL_M1 = """hw.optional.arm.FEAT_FP16: 1
hw.optional.arm.FEAT_DotProd: 1
hw.optional.arm.FEAT_I8MM: 0
hw.optional.arm.FEAT_BF16: 0
"""
# /proc/cpuinfo of one core of an SME2 Android phone (arm64 kernel layout).
CPUINFO_SME2_PHONE = """processor\t: 0
BogoMIPS\t: 38.40
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs sb paca pacg dcpodp sve2 sveaes svepmull svebitperm svesha3 svesm4 flagm2 frint svei8mm svebf16 i8mm bf16 dgh bti ecv afp wfxt sme smei16i64 smef64f64 smei8i32 smef16f32 smeb16f32 smef32f32 smefa64 sme2
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd85
"""
CPUINFO_X86 = """processor\t: 0
model name\t: AMD EPYC 9R14
flags\t\t: fpu vme sse sse2 avx avx2 avx512f avx512_vnni avx512_bf16
"""


def test_macos_sysctl_with_sme2() -> None:
    features = parse_sysctl_arm(SYSCTL_M4)
    assert features["sme"] and features["sme2"] and features["i8mm"] and features["bf16"]
    assert features["dotprod"] and features["fp16"] and not features["sve"]


def test_macos_sysctl_without_sme() -> None:
    features = parse_sysctl_arm(SYSCTL_M1)
    assert not features["sme"] and not features["sme2"] and not features["i8mm"]
    assert features["dotprod"]


def test_linux_arm64_cpuinfo_with_sme2() -> None:
    model, features = parse_proc_cpuinfo(CPUINFO_SME2_PHONE, "aarch64")
    assert all(features[name] for name in ("sme", "sme2", "sve", "sve2", "i8mm", "bf16", "dotprod", "fp16"))
    assert model == "implementer 0x41 part 0xd85"


def test_sme_without_sme2_is_not_reported_as_sme2() -> None:
    _, features = parse_proc_cpuinfo(CPUINFO_SME2_PHONE.replace(" sme2", ""), "aarch64")
    assert features["sme"] and not features["sme2"]


def test_x86_cpuinfo() -> None:
    model, features = parse_proc_cpuinfo(CPUINFO_X86, "x86_64")
    assert model == "AMD EPYC 9R14"
    assert features["avx512f"] and not features["sme2"]


def test_hwcaps_bits() -> None:
    features = features_from_hwcaps(hwcap=(1 << 22) | (1 << 20), hwcap2=(1 << 23) | (1 << 37) | (1 << 13))
    assert features["sve"] and features["dotprod"] and features["sme"] and features["sme2"] and features["i8mm"]
    assert not features["bf16"] and not features["sve2"]


def test_this_host_is_described() -> None:
    host = describe_host()
    assert host["platform"] == host_platform()
    assert host["machine"] == platform.machine()
    assert host["cpu_count"] >= 1 and host["cpu_features_source"]
    assert {"sme", "sme2", "sve", "i8mm", "bf16"} <= set(host["cpu_features"])
    if platform.system() == "Linux":
        text = open("/proc/cpuinfo").read()
        assert host["cpu_features"]["sme2"] == (" sme2" in text)
