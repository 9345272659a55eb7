// What a container does in the sysinfo tests, run inside the harness's
// container init (harness.cpp dispatches "notify" and "sysinfo" here).
#pragma once

#include <string>

namespace pvtest {

// Installs on the calling process a seccomp filter that sends sysinfo(2) to
// a listener (as runc does for linux.seccomp with SCMP_ACT_NOTIFY), and
// hands its notify fd to `listener` with the OCI message runc sends.
// "" on success, else what failed.
std::string install_sysinfo_notify(const std::string& listener, const std::string& name);

// Calls sysinfo `count` times; the fields of the last call, as
// "uptime loads0 loads1 loads2 totalram freeram sharedram bufferram totalswap freeswap procs mem_unit
//  failures last_errno efault_errno".
// efault_errno: errno of sysinfo((void*)8) (the kernel gives EFAULT).
std::string call_sysinfo(int count);

// Calls sysinfo `count` times: "p50_us p99_us max_us failures".
std::string sysinfo_latency(int count);

// A child process that calls sysinfo in a tight loop until killed; its pid.
int start_sysinfo_flood();

}  // namespace pvtest
