#include "sysinfo_probe.hpp"

#include "bench/sysinfo_caller.hpp"

#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <vector>
#include <cstring>
#include <sstream>

namespace pvtest {

std::string install_sysinfo_notify(const std::string& listener, const std::string& name) {
    // The same filter and message as the benchmark's caller: one runc-like client.
    auto handed = procview::bench::hand_sysinfo_to_agent(listener, name);
    return handed ? "" : handed.error().describe();
}

std::string call_sysinfo(int count) {
    struct sysinfo si{};
    int failures = 0, last_errno = 0;
    for (int i = 0; i < count; ++i) {
        if (::sysinfo(&si) != 0) {
            ++failures;
            last_errno = errno;
        }
    }
    errno = 0;
    long bad = ::syscall(SYS_sysinfo, reinterpret_cast<void*>(8));
    int efault = bad == 0 ? 0 : errno;
    std::ostringstream out;
    out << si.uptime << ' ' << si.loads[0] << ' ' << si.loads[1] << ' ' << si.loads[2] << ' ' << si.totalram << ' '
        << si.freeram << ' ' << si.sharedram << ' ' << si.bufferram << ' ' << si.totalswap << ' ' << si.freeswap << ' '
        << si.procs << ' ' << si.mem_unit << ' ' << failures << ' ' << last_errno << ' ' << efault;
    return out.str();
}

std::string sysinfo_latency(int count) {
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(count));
    int failures = 0;
    struct sysinfo si{};
    for (int i = 0; i < count; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        if (::sysinfo(&si) != 0) ++failures;
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    auto at = [&](double q) { return us.empty() ? 0.0 : us[static_cast<std::size_t>(q * static_cast<double>(us.size() - 1))]; };
    std::ostringstream out;
    out << at(0.5) << ' ' << at(0.99) << ' ' << (us.empty() ? 0.0 : us.back()) << ' ' << failures;
    return out.str();
}

int start_sysinfo_flood() {
    pid_t pid = ::fork();
    if (pid == 0) {
        struct sysinfo si{};
        for (;;) (void)::sysinfo(&si);
    }
    return pid;
}

}  // namespace pvtest
