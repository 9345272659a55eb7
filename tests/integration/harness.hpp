// Test harness for procviewfs integration tests: real cgroups (v1, hybrid or
// v2, detected), a real procviewfs mounted on a temp dir, and "containers":
// processes in their own cgroup and pid namespace that read files on request.
//
// Everything is RAII: cgroups are removed, processes started here are killed
// by pid, mounts are unmounted, even when an assertion fails.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pvtest {

// Why this machine cannot run the integration tests, or "" when it can.
std::string unsupported_reason();
bool pure_v2();

struct Limits {
    std::optional<uint64_t> memory_bytes;
    std::optional<uint64_t> quota_us;   // with period_us
    uint64_t period_us = 100000;
    std::optional<std::string> cpus;    // cpuset, e.g. "0-1"
};

// A cgroup in every hierarchy procview reads (v1), or one v2 cgroup.
class TestCgroup {
public:
    explicit TestCgroup(const std::string& name, const TestCgroup* parent = nullptr);
    ~TestCgroup();
    TestCgroup(const TestCgroup&) = delete;
    TestCgroup& operator=(const TestCgroup&) = delete;

    void set(const Limits& limits);
    void set_memory(uint64_t bytes);
    void set_quota(uint64_t quota_us, uint64_t period_us = 100000);
    void set_cpus(const std::string& cpus);
    // Moves `pid` into this cgroup in every hierarchy.
    void add(pid_t pid) const;
    // The cgroup.procs file of each hierarchy, for a process to join by itself.
    [[nodiscard]] std::vector<std::string> procs_files() const;
    [[nodiscard]] const std::string& path() const { return path_; }  // "/pvit-…"

private:
    std::string dir(const std::string& controller) const;
    std::string path_;
    std::vector<std::string> dirs_;  // created, deepest last
};

// In a forked child: `procviewfs -f MOUNTPOINT`, stdout and stderr to
// `log_path` (truncated); never returns (exit 127 when the exec fails).
[[noreturn]] void exec_procviewfs(const std::string& log_path, const std::string& mountpoint);

// procviewfs on a fresh temp mountpoint, foreground, logging to a file.
// A /proc file's text, or "" when it cannot be read: never throws (a process
// can exit between the open and the read, which an ifstream reports by
// throwing).
std::string read_proc_text(const std::string& path);
// Whether something is mounted at `path` in this mount namespace (mountinfo).
bool mounted_at(const std::string& path);

// The keeper procviewfs spawned for this (unique, temp) mountpoint, or -1.
pid_t keeper_of(const std::string& mountpoint);

class Daemon {
public:
    explicit Daemon(std::vector<std::string> extra_args = {}, std::string mountpoint = "");
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Starts (or restarts after kill) procviewfs on the same mountpoint; waits until it serves.
    void start();
    void kill9();
    // Whether the daemon exited by itself within `timeout_ms` (then reaped; start() runs it again).
    bool exited_within(int timeout_ms);
    void stop();  // SIGTERM and wait: hands the mount over to its keeper
    // `procviewfs --unmount MOUNTPOINT`: removes the mount and ends its
    // keeper (and a serving daemon). Returns its exit status.
    int unmount();
    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] const std::string& mountpoint() const { return mountpoint_; }
    [[nodiscard]] std::string file(const std::string& rel) const { return mountpoint_ + "/" + rel; }
    [[nodiscard]] std::string log() const;

private:
    std::vector<std::string> args_;
    std::string mountpoint_;
    std::string log_path_;
    bool own_mountpoint_ = false;
    pid_t pid_ = -1;
};

// argv[1] of a test binary re-executed as a Container's helper.
inline constexpr const char* kContainerHelperFlag = "--pvtest-container-helper";
// First thing in the main() of every binary that uses Container: when this
// process is a container's helper, runs it and never returns.
void run_container_helper_if_asked(int argc, char** argv);

// A process that is pid 1 of a new pid namespace, in a cgroup, and serves
// requests from the test over a socket: read files, start and stop busy loops.
// It is the test binary re-executed (container_helper.cpp), so tests may
// start containers while their own threads run.
class Container {
public:
    explicit Container(const TestCgroup& cgroup);
    ~Container();
    Container(const Container&) = delete;
    Container& operator=(const Container&) = delete;

    // The whole file, read with reads of `chunk` bytes. Throws std::runtime_error with errno text on failure.
    std::string read(const std::string& path, std::size_t chunk = 128 * 1024);
    // Reads through one fd: first to EOF, then lseek(0) and again (procps style).
    std::pair<std::string, std::string> read_twice_same_fd(const std::string& path);
    // The whole file as busybox cat reads it: sendfile(2), falling back to read(2) on error.
    std::string read_sendfile(const std::string& path);
    // errno of open(path, flags), 0 on success.
    int open_errno(const std::string& path, int flags);
    std::vector<std::string> list(const std::string& dir);
    void busy(int processes);  // starts busy loops inside the container
    void idle();               // stops them
    // sysinfo(2) through a seccomp notify filter handed to `listener` ("" or "ERR why").
    std::string notify_sysinfo(const std::string& listener, const std::string& name);
    // sysinfo_probe.hpp call_sysinfo's line.
    std::string sysinfo(int count = 1);
    // sysinfo_probe.hpp sysinfo_latency's line; sysinfo_flood: processes calling it in a loop until idle().
    std::string sysinfo_latency(int count);
    void sysinfo_flood(int processes);
    [[nodiscard]] pid_t host_pid() const { return init_pid_; }
    // Until the helper waits for the init and the init for a command (≤ 1 s):
    // nothing of the container's own is runnable (a load sample counts 0).
    void wait_until_idle() const;

private:
    std::string request(const std::string& command);
    // Why the container stopped answering: how its init ended, if it did.
    std::string gone_reason();
    int sock_ = -1;
    bool helper_reaped_ = false;
    pid_t helper_pid_ = -1;  // the forked process that entered the cgroup and unshared
    pid_t init_pid_ = -1;
};

// Parsing helpers for assertions.
std::optional<uint64_t> meminfo_kb(const std::string& meminfo, const std::string& key);
std::vector<std::string> lines(const std::string& text);
int count_prefix(const std::string& text, const std::string& prefix);
struct CpuLine {
    uint64_t busy = 0, total = 0;
};
CpuLine stat_cpu_total(const std::string& stat);  // the "cpu " line
std::string env_or(const char* name, const std::string& fallback);
// A name no other test run on this machine uses: "pvit-<pid>-<what>".
std::string unique_name(const std::string& what);
inline constexpr uint64_t MiB = 1024 * 1024;

// Every integration case starts with this: root, /dev/fuse and writable cgroups, or a printed reason.
#define SKIP_UNLESS_SUPPORTED()                                      \
    if (auto why = ::pvtest::unsupported_reason(); !why.empty()) {   \
        MESSAGE("SKIP (integration): " << why);                      \
        return;                                                      \
    }
void sleep_ms(int ms);

}  // namespace pvtest
