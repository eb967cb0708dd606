/* What an aarch64 Linux program sees of its CPU: the hwcaps words and the SME vector length.
 * Built static for aarch64 by the kit (runners/qemu.py) and run under qemu-aarch64 -cpu ...,
 * so "does this emulator expose SME2?" is answered the way XNNPACK's cpuinfo answers it
 * (getauxval), not from a version string. Output lines:
 *   hwcaps: hwcap=0x... hwcap2=0x...
 *   sme_vector_length_bytes: N        (0 when the CPU has no SME)
 */
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/prctl.h>

#ifndef PR_SME_GET_VL
#define PR_SME_GET_VL 64
#endif
#ifndef PR_SME_VL_LEN_MASK
#define PR_SME_VL_LEN_MASK 0xffff
#endif

int main(void) {
    unsigned long hwcap = getauxval(AT_HWCAP);
    unsigned long hwcap2 = getauxval(AT_HWCAP2);
    long vl = prctl(PR_SME_GET_VL, 0, 0, 0, 0);
    printf("hwcaps: hwcap=0x%lx hwcap2=0x%lx\n", hwcap, hwcap2);
    printf("sme_vector_length_bytes: %ld\n", vl < 0 ? 0L : (vl & PR_SME_VL_LEN_MASK));
    return 0;
}
