#include "platform/health.hpp"

#include <fcntl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace procview {

namespace {

enum class Stage : int { ok, statfs, not_fuse, open, read, empty };

// Written by the child in one write(2) (smaller than PIPE_BUF, so atomic).
struct Probe {
    Stage stage = Stage::ok;
    int err = 0;
    long f_type = 0;
};

// Runs in a forked child: only async-signal-safe calls (the caller may have
// threads, e.g. the runtime wrapper), no allocation.
int probe_child(int report_fd, const char* mountpoint, const char* uptime_path) {
    Probe p;
    struct statfs sfs {};
    char buf[128];
    if (::statfs(mountpoint, &sfs) != 0) {
        p = {Stage::statfs, errno, 0};
    } else if (static_cast<long>(sfs.f_type) != kFuseSuperMagic) {
        p = {Stage::not_fuse, 0, static_cast<long>(sfs.f_type)};
    } else {
        int fd = ::open(uptime_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            p = {Stage::open, errno, 0};
        } else {
            ssize_t n;
            do n = ::read(fd, buf, sizeof buf);
            while (n < 0 && errno == EINTR);
            if (n < 0) p = {Stage::read, errno, 0};
            else if (n == 0) p = {Stage::empty, 0, 0};
        }
    }
    ssize_t w = ::write(report_fd, &p, sizeof p);
    return w == static_cast<ssize_t>(sizeof p) ? 0 : 1;
}

Error describe_probe(const Probe& p, const std::string& mountpoint, const std::string& uptime_path) {
    switch (p.stage) {
    case Stage::statfs: return make_error(p.err, "statfs `" + mountpoint + "`");
    case Stage::not_fuse: {
        char hex[32];
        std::snprintf(hex, sizeof hex, "0x%lx", static_cast<unsigned long>(p.f_type));
        return make_error(EMEDIUMTYPE, "`" + mountpoint + "` is not a FUSE mount (filesystem type " + hex +
                                 "): procviewfs is not mounted there");
    }
    case Stage::open: return make_error(p.err, "open `" + uptime_path + "`");
    case Stage::read: return make_error(p.err, "read `" + uptime_path + "`");
    case Stage::empty: return make_error(ENODATA, "`" + uptime_path + "` is empty");
    case Stage::ok: break;
    }
    return make_error(EIO, "health probe of `" + mountpoint + "`: no answer");
}

}  // namespace

Result<void> check_procview_serving(const std::string& mountpoint, std::chrono::milliseconds timeout) {
    return check_procview_serving(mountpoint, timeout, std::chrono::steady_clock::now() + timeout);
}

Result<void> check_procview_serving(const std::string& mountpoint, std::chrono::milliseconds timeout,
                                    Deadline deadline) {
    return check_procview_serving(mountpoint, "proc/uptime", timeout, deadline);
}

Result<void> check_procview_serving(const std::string& mountpoint, const std::string& probe,
                                    std::chrono::milliseconds timeout, Deadline deadline) {
    const std::string uptime_path = mountpoint + "/" + probe;
    const long long bound_ms = std::min<long long>(timeout.count(), ms_left(deadline));
    deadline = std::min(deadline, std::chrono::steady_clock::now() + timeout);
    auto child = run_child_until(deadline, [&](int report_fd) {
        return probe_child(report_fd, mountpoint.c_str(), uptime_path.c_str());
    });
    if (!child) return child.error().context("health probe");
    if (child->timed_out)
        return make_error(ETIMEDOUT, "`" + mountpoint + "` did not answer within " +
                                         std::to_string(bound_ms) + " ms (procviewfs hung?)");
    Probe p;
    if (child->report.size() != sizeof p) return make_error(ECHILD, "health probe of `" + mountpoint + "` died");
    std::memcpy(&p, child->report.data(), sizeof p);
    if (p.stage != Stage::ok) return describe_probe(p, mountpoint, uptime_path);
    return {};
}

bool is_not_mounted(const Error& error) { return error.errnum == ENOENT || error.errnum == EMEDIUMTYPE; }

}  // namespace procview
