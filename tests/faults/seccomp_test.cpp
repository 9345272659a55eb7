// procviewfs's seccomp filter (fusefs/seccomp.hpp).
//
// The filter itself is tested in a forked child (it cannot be removed once
// installed): refused calls fail with EPERM (clone3 with ENOSYS) and the
// child carries on and makes the calls the daemon needs. Then the real
// daemon: every thread filtered, serving under the filter, --no-seccomp.
#include <doctest/doctest.h>

#include <dirent.h>
#include <seccomp.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "fusefs/seccomp.hpp"
#include "harness.hpp"

using namespace pvtest;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// "Seccomp:\t2" → 2; -1 when absent.
int seccomp_mode(const std::string& status) {
    auto at = status.find("\nSeccomp:");
    if (at == std::string::npos) return -1;
    return std::atoi(status.c_str() + at + 9);
}

int errno_of(long rc) { return rc < 0 ? errno : 0; }

// What the daemon may no longer do to files and sockets after start-up. The
// scratch directory holds "existing" (a file), "pid" (the pidfile) and
// "subdir"; `dir_fd` is the scratch directory held as the pidfile's.
void probe_files_and_sockets(const std::string& scratch, int dir_fd,
                             const std::function<void(const char*, int)>& report) {
    auto open_errno = [](const std::string& path, int flags) {
        int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
        if (fd < 0) return errno;
        ::close(fd);
        return 0;
    };
    std::string existing = scratch + "/existing";
    report("open_rdonly", open_errno(existing, O_RDONLY));
    report("open_wronly", open_errno(existing, O_WRONLY));
    report("open_rdwr", open_errno(existing, O_RDWR));
    report("open_trunc", open_errno(existing, O_RDONLY | O_TRUNC));
    report("open_creat", open_errno(scratch + "/new", O_RDONLY | O_CREAT));
    report("open_dev_fuse_rdwr", open_errno("/dev/fuse", O_RDWR));
    report("rename", errno_of(::rename(existing.c_str(), (scratch + "/renamed").c_str())));
    report("unlink", errno_of(::unlink(existing.c_str())));
    report("unlinkat_cwd", errno_of(::unlinkat(AT_FDCWD, existing.c_str(), 0)));
    report("rmdir_in_pidfile_dir", errno_of(::unlinkat(dir_fd, "subdir", AT_REMOVEDIR)));
    report("unlink_pidfile", errno_of(::unlinkat(dir_fd, "pid", 0)));
    report("umount2_not_detach", errno_of(::umount2(scratch.c_str(), 0)));
    report("umount2_detach", errno_of(::umount2((scratch + "/subdir").c_str(), MNT_DETACH)));
    for (auto [name, type] : {std::pair{"socket_unix_stream", SOCK_STREAM}, std::pair{"socket_unix_seqpacket", SOCK_SEQPACKET},
                              std::pair{"socket_unix_dgram", SOCK_DGRAM}}) {
        int sock = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        report(name, errno_of(sock));
        if (sock >= 0) ::close(sock);
    }
    rlimit lim{};
    report("prlimit_self", errno_of(::prlimit(0, RLIMIT_NOFILE, nullptr, &lim)));
    report("prlimit_other", errno_of(::prlimit(::getppid(), RLIMIT_NOFILE, nullptr, &lim)));
}

// Runs in the child after the filter is installed; one "name errno" line per probe (0 = it worked).
std::string probe_everything(bool log_only, const std::string& scratch, int dir_fd) {
    std::ostringstream out;
    auto report = [&out](const char* name, int err) { out << name << ' ' << err << '\n'; };
    probe_files_and_sockets(scratch, dir_fd, report);

    // Refused.
    long rc = ::mount("pvhard", scratch.c_str(), "tmpfs", 0, nullptr);
    report("mount", errno_of(rc));
    if (rc == 0) ::umount2(scratch.c_str(), MNT_DETACH);
    report("unshare", errno_of(::unshare(CLONE_NEWUTS)));
    report("kill", errno_of(::kill(::getppid(), 0)));
    int inet = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    report("socket_inet", errno_of(inet));
    if (inet >= 0) ::close(inet);
    void* exec = ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    report("mmap_exec", exec == MAP_FAILED ? errno : 0);
    if (exec != MAP_FAILED) ::munmap(exec, 4096);
    report("clone3", errno_of(::syscall(SYS_clone3, nullptr, 0)));
    // These would succeed in log-only mode, and in ASan builds (which allow
    // ptrace and fork for LeakSanitizer), and change the child.
    if (!log_only && !kSanitized) {
        report("ptrace", errno_of(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)));
        pid_t pid = ::fork();
        if (pid == 0) ::_exit(0);
        if (pid > 0) ::waitpid(pid, nullptr, 0);
        report("fork", errno_of(pid));
    }
    if (!log_only) {
        char* argv[] = {const_cast<char*>("true"), nullptr};
        report("execve", errno_of(::execve("/bin/true", argv, environ)));
    }

    // Allowed: what serving takes.
    int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    report("open", errno_of(fd));
    std::string status(8192, '\0');
    ssize_t n = fd >= 0 ? ::pread(fd, status.data(), status.size(), 0) : -1;
    report("pread", errno_of(n));
    status.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    if (fd >= 0) ::close(fd);
    report("status_mode", seccomp_mode("\n" + status));
    long pidfd = ::syscall(SYS_pidfd_open, ::getpid(), 0);
    report("pidfd_open", errno_of(pidfd));
    if (pidfd >= 0) ::close(static_cast<int>(pidfd));
    try {
        int seen = 0;
        std::thread worker([&seen] { seen = 1; });  // clone3 → ENOSYS → clone(CLONE_THREAD)
        worker.join();
        report("thread", seen == 1 ? 0 : EINVAL);
    } catch (const std::system_error& e) {
        report("thread", e.code().value());
    }
    {
        // The stop-signal waiter's sigwait (request_loops.hpp): nothing pending → EAGAIN, not EPERM.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGHUP);
        timespec zero{};
        report("sigtimedwait", ::sigtimedwait(&set, nullptr, &zero) < 0 ? errno : 0);
    }
    void* data = ::mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    report("mmap_data", data == MAP_FAILED ? errno : 0);
    if (data != MAP_FAILED) ::munmap(data, 1 << 20);
    return out.str();
}

// Forks; the child installs `options`' filter and runs `probes`, which
// write one "name errno" line each (0 = the call worked). Name → errno.
std::map<std::string, int> run_in_filtered_child(const procview::DaemonFilterOptions& options,
                                                 const std::function<void(std::ostream&)>& probes) {
    int pipefd[2];
    REQUIRE(::pipe2(pipefd, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(pipefd[0]);
        std::ostringstream out;
        if (auto installed = procview::install_daemon_seccomp_filter(options); !installed)
            out << "install " << installed.error().errnum << '\n';
        else
            probes(out);
        std::string text = out.str();
        (void)!::write(pipefd[1], text.data(), text.size());
        ::_exit(0);
    }
    ::close(pipefd[1]);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK_MESSAGE(WIFEXITED(status), "the filtered child died instead of getting errors");
    std::map<std::string, int> result;
    std::istringstream lines(text);
    std::string name;
    int err = 0;
    while (lines >> name >> err) result[name] = err;
    return result;
}

// The daemon's filter with a scratch directory as the pidfile's; runs every probe.
std::map<std::string, int> probe_in_filtered_child(bool log_only) {
    char scratch[] = "/tmp/pvhard-seccomp.XXXXXX";
    REQUIRE(::mkdtemp(scratch) != nullptr);
    for (const char* name : {"existing", "pid"}) std::ofstream(std::string(scratch) + "/" + name) << "1\n";
    REQUIRE(::mkdir((std::string(scratch) + "/subdir").c_str(), 0755) == 0);
    int dir_fd = ::open(scratch, O_PATH | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dir_fd >= 0);
    auto result = run_in_filtered_child(
        {.log_only = log_only, .pidfile_dir_fd = dir_fd},
        [&](std::ostream& out) { out << probe_everything(log_only, scratch, dir_fd); });
    ::close(dir_fd);
    ::umount2(scratch, MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove_all(scratch, ec);
    return result;
}

#define PVHARD_SKIP_UNLESS_SUPPORTED()                          \
    if (auto why = unsupported_reason(); !why.empty()) { \
        MESSAGE("SKIP (seccomp, daemon): " << why);      \
        return;                                          \
    }

}  // namespace

TEST_CASE("the filter refuses what the daemon never needs, with EPERM, and the process carries on") {
    if (::geteuid() != 0) {
        MESSAGE("SKIP (seccomp): needs root (the mount probe must be able to succeed without the filter)");
        return;
    }
    auto r = probe_in_filtered_child(false);
    REQUIRE_MESSAGE(!r.count("install"), "install failed: errno " << r["install"]);
    CHECK(r["mount"] == EPERM);
    CHECK(r["unshare"] == EPERM);
    CHECK(r["kill"] == EPERM);
    CHECK(r["socket_inet"] == EPERM);
    CHECK(r["mmap_exec"] == EPERM);
    CHECK(r["clone3"] == ENOSYS);
    CHECK(r["execve"] == EPERM);
    if (kSanitized) {
        MESSAGE("ASan build: fork and ptrace stay allowed for LeakSanitizer");
    } else {
        CHECK(r["ptrace"] == EPERM);
        CHECK(r["fork"] == EPERM);
    }
    // ...and keeps doing its job.
    CHECK(r["open"] == 0);
    CHECK(r["pread"] == 0);
    CHECK(r["status_mode"] == 2);
    CHECK(r["pidfd_open"] == 0);
    CHECK(r["thread"] == 0);
    CHECK(r["sigtimedwait"] == EAGAIN);
    CHECK(r["mmap_data"] == 0);
}

TEST_CASE("after start-up the daemon cannot write, create, truncate, remove or rename files") {
    if (::geteuid() != 0) {
        MESSAGE("SKIP (seccomp): needs root");
        return;
    }
    auto r = probe_in_filtered_child(false);
    REQUIRE_MESSAGE(!r.count("install"), "install failed: errno " << r["install"]);
    CHECK(r["open_rdonly"] == 0);
    CHECK(r["open_wronly"] == EPERM);
    CHECK(r["open_rdwr"] == EPERM);
    CHECK(r["open_trunc"] == EPERM);
    CHECK(r["open_creat"] == EPERM);
    CHECK(r["open_dev_fuse_rdwr"] == EPERM);  // no loop reopens /dev/fuse, whatever --threads says
    CHECK(r["rename"] == EPERM);
    CHECK(r["unlink"] == EPERM);
    CHECK(r["unlinkat_cwd"] == EPERM);
    CHECK(r["rmdir_in_pidfile_dir"] == EPERM);
    CHECK(r["umount2_not_detach"] == EPERM);
    // What stays: the pidfile's removal in its held directory, a lazy unmount
    // (EINVAL: the scratch subdir is no mount point, but the call got through).
    CHECK(r["unlink_pidfile"] == 0);
    CHECK(r["umount2_detach"] == EINVAL);
}

// The /proc/stat records' rules (stat_records.hpp), probed in a filtered
// child: scratch/records is the records directory, scratch its parent.
void probe_records(std::ostream& out, const std::string& top, int dir_fd, int parent_fd) {
    auto report = [&out](const char* name, int err) { out << name << ' ' << err << '\n'; };
    auto create = [](int at, const std::string& name, int flags) {
        int fd = ::openat(at, name.c_str(), flags | O_CLOEXEC, 0600);
        if (fd < 0) return errno;
        ::close(fd);
        return 0;
    };
    report("create_in_records", create(dir_fd, "tmp.a", O_WRONLY | O_CREAT | O_TRUNC));
    report("rename_in_records", errno_of(::renameat(dir_fd, "tmp.a", dir_fd, "a")));
    report("rename_out_of_records", errno_of(::renameat(dir_fd, "a", parent_fd, "moved")));
    // Read-write without truncation: a counter floor to map (counter_floor.hpp).
    report("create_rdwr_in_records", create(dir_fd, "floor.b", O_RDWR | O_CREAT));
    report("truncate_rdwr_in_records", create(dir_fd, "floor.c", O_RDWR | O_CREAT | O_TRUNC));
    report("create_rdwr_elsewhere", create(AT_FDCWD, top + "/rdwr", O_RDWR | O_CREAT));
    report("create_elsewhere", create(AT_FDCWD, top + "/new", O_WRONLY | O_CREAT | O_TRUNC));
    report("create_in_parent", create(parent_fd, "new", O_WRONLY | O_CREAT | O_TRUNC));
    report("unlink_in_parent", errno_of(::unlinkat(parent_fd, "file", 0)));
    report("unlink_in_records", errno_of(::unlinkat(dir_fd, "a", 0)));
    (void)::unlinkat(dir_fd, "floor.b", 0);
    report("rmdir_records", errno_of(::unlinkat(parent_fd, "records", AT_REMOVEDIR)));
}

std::map<std::string, int> probe_record_rules() {
    char scratch[] = "/tmp/pvhard-records.XXXXXX";
    REQUIRE(::mkdtemp(scratch) != nullptr);
    const std::string top = scratch, records = top + "/records";
    REQUIRE(::mkdir(records.c_str(), 0700) == 0);
    std::ofstream(top + "/file") << "1\n";
    int parent_fd = ::open(scratch, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int dir_fd = ::open(records.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(parent_fd >= 0);
    REQUIRE(dir_fd >= 0);
    auto result = run_in_filtered_child({.log_only = false, .records_dir_fd = dir_fd, .records_parent_fd = parent_fd},
                                        [&](std::ostream& out) { probe_records(out, top, dir_fd, parent_fd); });
    ::close(dir_fd);
    ::close(parent_fd);
    std::error_code ec;
    std::filesystem::remove_all(scratch, ec);
    return result;
}

TEST_CASE("the /proc/stat records are written, renamed and removed only through their held directory") {
    if (::geteuid() != 0) {
        MESSAGE("SKIP (seccomp): needs root");
        return;
    }
    auto r = probe_record_rules();
    REQUIRE_MESSAGE(!r.count("install"), "install failed: errno " << r["install"]);
    CHECK(r["create_in_records"] == 0);
    CHECK(r["rename_in_records"] == 0);
    CHECK(r["unlink_in_records"] == 0);
    CHECK(r["rmdir_records"] == 0);
    CHECK(r["rename_out_of_records"] == EPERM);
    CHECK(r["create_rdwr_in_records"] == 0);
    CHECK(r["truncate_rdwr_in_records"] == EPERM);
    CHECK(r["create_rdwr_elsewhere"] == EPERM);
    CHECK(r["create_elsewhere"] == EPERM);
    CHECK(r["create_in_parent"] == EPERM);
    CHECK(r["unlink_in_parent"] == EPERM);
}

TEST_CASE("after start-up the daemon makes no stream socket and touches no other process's limits") {
    if (::geteuid() != 0) {
        MESSAGE("SKIP (seccomp): needs root");
        return;
    }
    auto r = probe_in_filtered_child(false);
    REQUIRE_MESSAGE(!r.count("install"), "install failed: errno " << r["install"]);
    // No connect to containerd's, Docker's or the kubelet's API sockets.
    CHECK(r["socket_unix_stream"] == EPERM);
    CHECK(r["socket_unix_seqpacket"] == EPERM);
    CHECK(r["socket_unix_dgram"] == 0);  // syslog's reconnect to /dev/log
    CHECK(r["prlimit_self"] == 0);
    CHECK(r["prlimit_other"] == EPERM);
}

TEST_CASE("log-only mode refuses nothing") {
    if (::geteuid() != 0) {
        MESSAGE("SKIP (seccomp): needs root");
        return;
    }
    auto r = probe_in_filtered_child(true);
    REQUIRE(!r.count("install"));
    CHECK(r["mount"] == 0);
    CHECK(r["unshare"] == 0);
    CHECK(r["socket_inet"] == 0);
    CHECK(r["open_wronly"] == 0);
    CHECK(r["socket_unix_stream"] == 0);
    CHECK(r["prlimit_other"] == 0);
    CHECK(r["status_mode"] == 2);
    CHECK(r["clone3"] == ENOSYS);  // the one deliberate errno, in both modes
}

TEST_CASE("every system call in the allow-list is a real one") {
    // A typo would silently drop a rule (names the running architecture lacks
    // are skipped), so every name must at least be a real x86-64 system call.
    for (auto name : procview::daemon_syscall_allowlist()) {
        CAPTURE(name);
        CHECK(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, std::string(name).c_str()) >= 0);
    }
}

TEST_CASE("procviewfs serves under the filter on every thread; --no-seccomp turns it off") {
    PVHARD_SKIP_UNLESS_SUPPORTED();
    TestCgroup cg("pvhard-sc-" + std::to_string(::getpid()));
    cg.set_memory(96 * 1024 * 1024);
    Container c(cg);
    {
        Daemon d;
        std::string status = slurp("/proc/" + std::to_string(d.pid()) + "/status");
        CHECK(seccomp_mode(status) == 2);
        DIR* tasks = ::opendir(("/proc/" + std::to_string(d.pid()) + "/task").c_str());
        REQUIRE(tasks);
        int threads = 0;
        while (auto* e = ::readdir(tasks)) {
            if (e->d_name[0] == '.') continue;
            ++threads;
            CAPTURE(e->d_name);
            CHECK(seccomp_mode(slurp("/proc/" + std::to_string(d.pid()) + "/task/" + e->d_name + "/status")) == 2);
        }
        ::closedir(tasks);
        CHECK(threads >= 2);  // the loop and the keeper watcher at least
        CHECK(meminfo_kb(c.read(d.file("proc/meminfo")), "MemTotal") == 96 * 1024);

        // The keeper dies: respawning it needs fork+exec, which the filter
        // refuses; the daemon says so and keeps serving.
        pid_t keeper = keeper_of(d.mountpoint());
        REQUIRE(keeper > 0);
        ::kill(keeper, SIGKILL);
        std::string log;
        for (int i = 0; i < 200 && log.find("cannot respawn the keeper") == std::string::npos; ++i) {
            sleep_ms(10);
            log = d.log();
        }
        CHECK(log.find("cannot respawn the keeper") != std::string::npos);
        for (int i = 0; i < 20; ++i) CHECK(meminfo_kb(c.read(d.file("proc/meminfo")), "MemTotal") == 96 * 1024);
        CHECK(::kill(d.pid(), 0) == 0);
    }
    {
        Daemon d({"--no-seccomp"});
        CHECK(seccomp_mode(slurp("/proc/" + std::to_string(d.pid()) + "/status")) == 0);
        CHECK(meminfo_kb(c.read(d.file("proc/meminfo")), "MemTotal") == 96 * 1024);
    }
}

namespace {

// libfuse's multi-threaded loop opens /dev/fuse for each worker it starts
// (clone_fd), under the filter; a refused open would only show as fewer
// /dev/fuse fds (libfuse then carries on without clone_fd).
int dev_fuse_fds(pid_t pid) {
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::error_code ec;
        if (std::filesystem::read_symlink(entry.path(), ec) == "/dev/fuse") ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("procviewfs with worker threads serves under the filter and still removes its pidfile") {
    PVHARD_SKIP_UNLESS_SUPPORTED();
    TestCgroup cg("pvhard-scmt-" + std::to_string(::getpid()));
    cg.set_memory(80 * 1024 * 1024);
    Container c(cg);
    char scratch[] = "/tmp/pvhard-pidfile.XXXXXX";
    REQUIRE(::mkdtemp(scratch) != nullptr);
    std::string pidfile = std::string(scratch) + "/procviewfs.pid";
    {
        Daemon d({"--threads", "4", "-p", pidfile});
        CHECK(seccomp_mode(slurp("/proc/" + std::to_string(d.pid()) + "/status")) == 2);
        CHECK(slurp(pidfile) == std::to_string(d.pid()) + "\n");
        std::vector<std::thread> readers;
        for (int t = 0; t < 6; ++t)
            readers.emplace_back([&d] {
                for (int i = 0; i < 200; ++i) (void)slurp(d.file("proc/uptime"));
            });
        for (auto& reader : readers) reader.join();
        CHECK(meminfo_kb(c.read(d.file("proc/meminfo")), "MemTotal") == 80 * 1024);
        // The master and the session's own fd: the 4 loops share the latter (request_loops.hpp).
        CHECK(dev_fuse_fds(d.pid()) == 2);
        auto tasks = std::distance(std::filesystem::directory_iterator("/proc/" + std::to_string(d.pid()) + "/task"),
                                   std::filesystem::directory_iterator{});
        CHECK_MESSAGE(tasks >= 4, "threads: " << tasks);
        d.stop();
        CHECK_MESSAGE(::access(pidfile.c_str(), F_OK) != 0, "the pidfile outlived the daemon");
    }
    std::error_code ec;
    std::filesystem::remove_all(scratch, ec);
}
