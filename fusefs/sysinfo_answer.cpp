// sysinfo(2) in the caller's ABI, written into the caller.
#include "fusefs/sysinfo_answer.hpp"

#include <linux/audit.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace procview {

namespace {

// include/linux/compat.h's struct compat_sysinfo (what kernel/sys.c's
// compat_sysinfo copies out to a 32-bit process).
struct CompatSysinfo {
    int32_t uptime;
    uint32_t loads[3];
    uint32_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
    uint16_t procs;
    uint16_t pad;
    uint32_t totalhigh, freehigh;
    uint32_t mem_unit;
    char f[20 - 2 * sizeof(uint32_t) - sizeof(int)];
};
static_assert(sizeof(CompatSysinfo) == 64);

constexpr int kCompatSysinfoNr = 116;  // i386 and 32-bit arm EABI

}  // namespace

std::optional<unsigned> sysinfo_abi_bits(uint32_t arch, int nr) {
#if defined(__x86_64__)
    constexpr int kX32Bit = 0x40000000;  // __X32_SYSCALL_BIT: x32 shares the 64-bit struct
    if (arch == AUDIT_ARCH_X86_64 && (nr & ~kX32Bit) == SYS_sysinfo) return 64;
    if (arch == AUDIT_ARCH_I386 && nr == kCompatSysinfoNr) return 32;
#elif defined(__aarch64__)
    if (arch == AUDIT_ARCH_AARCH64 && nr == SYS_sysinfo) return 64;
    if (arch == AUDIT_ARCH_ARM && nr == kCompatSysinfoNr) return 32;
#else
    (void)arch;
    (void)nr;
#endif
    return std::nullopt;
}

std::string encode_sysinfo(const SysinfoValues& v, unsigned bits) {
    if (bits >= 64) {
        struct sysinfo s{};
        s.uptime = v.uptime;
        for (int i = 0; i < 3; ++i) s.loads[i] = v.loads[static_cast<std::size_t>(i)];
        s.totalram = v.totalram;
        s.freeram = v.freeram;
        s.sharedram = v.sharedram;
        s.bufferram = v.bufferram;
        s.totalswap = v.totalswap;
        s.freeswap = v.freeswap;
        s.procs = v.procs;
        s.totalhigh = v.totalhigh;
        s.freehigh = v.freehigh;
        s.mem_unit = v.mem_unit;
        return std::string(reinterpret_cast<const char*>(&s), sizeof s);
    }
    CompatSysinfo s{};
    s.uptime = static_cast<int32_t>(v.uptime);
    for (int i = 0; i < 3; ++i) s.loads[i] = static_cast<uint32_t>(v.loads[static_cast<std::size_t>(i)]);
    s.totalram = static_cast<uint32_t>(v.totalram);
    s.freeram = static_cast<uint32_t>(v.freeram);
    s.sharedram = static_cast<uint32_t>(v.sharedram);
    s.bufferram = static_cast<uint32_t>(v.bufferram);
    s.totalswap = static_cast<uint32_t>(v.totalswap);
    s.freeswap = static_cast<uint32_t>(v.freeswap);
    s.procs = v.procs;
    s.totalhigh = static_cast<uint32_t>(v.totalhigh);
    s.freehigh = static_cast<uint32_t>(v.freehigh);
    s.mem_unit = v.mem_unit;
    return std::string(reinterpret_cast<const char*>(&s), sizeof s);
}

WriteOutcome write_to_caller(pid_t pid, uint64_t address, const std::string& bytes) {
    iovec local{const_cast<char*>(bytes.data()), bytes.size()};
    iovec remote{reinterpret_cast<void*>(static_cast<uintptr_t>(address)), bytes.size()};
    ssize_t n = ::process_vm_writev(pid, &local, 1, &remote, 1, 0);
    if (n == static_cast<ssize_t>(bytes.size())) return WriteOutcome::written;
    if (n >= 0 || errno == EFAULT) return WriteOutcome::efault;  // a short write: the rest is unmapped
    return WriteOutcome::failed;
}

}  // namespace procview
