// The process around procviewfs's serving: daemonizing, readiness reports
// (the parent process, systemd), the fd limit, the logger and the --pidfile.
// None of it knows FUSE; main.cpp's run() calls these in its steps.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "fusefs/options.hpp"
#include "platform/unique_fd.hpp"

namespace procview {

// Forks; the parent exits 0 once the child reports that the mount serves, 1 if
// the child dies first. Returns the fd the child reports readiness on.
int daemonize();

// Tells the waiting parent (daemonize) that the mount serves, and points the
// standard streams at /dev/null. -1 (foreground): nothing to do.
void report_ready(int ready_fd);

// systemd's readiness protocol, without linking libsystemd.
void notify_systemd(const std::string& state);

// Each container read keeps a few cgroup files open (pread at 0 is the hot path).
void raise_fd_limit();

// syslog when daemonized without a log file; otherwise stderr or the file.
std::shared_ptr<spdlog::logger> make_daemon_logger(const DaemonOptions& options);

// The --pidfile, written at start-up. Its directory stays open so that the
// removal at exit is one unlinkat the seccomp filter can pin to that fd.
class Pidfile {
public:
    static Pidfile write(const std::string& path);  // empty path: no pidfile
    [[nodiscard]] int directory_fd() const { return dir_.get(); }
    // Explicit, not in the destructor: run() removes it after the session is gone.
    void remove() const;

private:
    UniqueFd dir_;
    std::string name_;
};

}  // namespace procview
