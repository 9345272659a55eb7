// One seccomp notification for sysinfo(2), answered: which ABI the caller
// uses, the struct in that ABI's layout, and the write into its memory.
#pragma once

#include <linux/seccomp.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "core/views.hpp"

namespace procview {

// The caller's sysinfo ABI from the notification's arch and nr: 64 (struct
// sysinfo, x86-64/x32/arm64), 32 (compat_sysinfo, i386/arm on a 64-bit
// kernel), nullopt: not a sysinfo call procview knows how to answer.
std::optional<unsigned> sysinfo_abi_bits(uint32_t arch, int nr);

// The bytes the kernel would copy to the caller for `values` in that ABI.
std::string encode_sysinfo(const SysinfoValues& values, unsigned bits);

enum class WriteOutcome { written, efault, failed };
// process_vm_writev of `bytes` to `address` in `pid`: written in full;
// efault when the address is not writable there (partly or at all, as
// copy_to_user fails); failed for anything else (the process is gone, no
// permission).
WriteOutcome write_to_caller(pid_t pid, uint64_t address, const std::string& bytes);

}  // namespace procview
