// What stays allowed after start-up, and what a compromised daemon could
// still do with it (the filter sees numbers, never paths or buffers):
// - write/writev/sendmsg on fds it already holds: /dev/fuse replies, the log
//   file, stderr, the keeper's socket. No new writable fd: openat is
//   read-only and never creates or truncates (every request loop reads the
//   one /dev/fuse clone taken before the filter, request_loops.hpp).
// - unlinkat on the pidfile's directory fd only (other entries of that
//   directory too: the filter cannot see the name), never a directory.
// - the /proc/stat records' directory fd: files created write-only in it,
//   renamed within it, unlinked from it; the directory removed from its
//   parent's fd. A compromised daemon could rewrite records (which only set
//   container counters' baselines) and other entries of those directories.
// - umount2(any path, MNT_DETACH): the SIGTERM unmount when the keeper is
//   gone; the path is the config's mountpoint, the filter cannot pin it.
// - AF_UNIX datagram sockets and connect/sendto on them: syslog's reconnect
//   to /dev/log. Stream sockets (containerd, Docker, the kubelet) cannot be
//   made, so not reached.
// - with the sysinfo agent: accept4 on its listener fd only (not on any
//   other socket), the three seccomp-notify ioctls, and process_vm_writev,
//   which can write into any process the daemon may ptrace (the filter
//   cannot see the pid): the one write into other processes it keeps, for
//   the sysinfo struct at the address the caller gave the kernel.
// - reads of any file root can read: the daemon's job is reading /proc and
//   cgroupfs for containers it cannot know in advance.
#include "fusefs/seccomp.hpp"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>

namespace procview {

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

struct FilterDeleter {
    void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

// ASan/UBSan builds (the sanitizer CI lane) only: LeakSanitizer stops the
// world at exit with a cloned tracer that ptraces the other threads; UBSan's
// vptr check probes memory by writing it into a pipe (a refused pipe reads as
// "invalid vptr"); reports name the executable through readlink. On x86-64
// the sanitizer runtime makes the legacy calls (open, getdents, stat) where
// libc uses the *at ones: the tracer lists /proc/<pid>/task with them.
const std::vector<std::string_view>& sanitizer_extras() {
    static const std::vector<std::string_view> names{
        "ptrace", "wait4", "waitid", "prctl", "sigaltstack", "sched_yield", "getrusage", "process_vm_readv", "pipe",
        "pipe2", "readlink", "dup", "dup2", "dup3", "mincore", "open", "getdents", "stat", "lstat"};
    return names;
}

Result<void> add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, std::string_view name,
                      std::initializer_list<scmp_arg_cmp> args = {}) {
    int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(args.size()), args.begin());
    if (rc < 0) return make_error(-rc, "seccomp: add the rule for " + std::string(name));
    return {};
}

// A name the running architecture may not have (e.g. `open` on arm64) is skipped.
int resolve(std::string_view name) { return seccomp_syscall_resolve_name(std::string(name).c_str()); }

// Threads (libfuse's worker pool, the sampler, the keeper watcher), never a
// new process: fork/vfork/posix_spawn lack CLONE_THREAD.
Result<void> add_thread_rules(scmp_filter_ctx ctx) {
    const uint32_t allow = SCMP_ACT_ALLOW;
    if (kSanitized) {
        if (auto r = add_rule(ctx, allow, SCMP_SYS(clone), "clone"); !r) return r;
    } else {
        if (auto r = add_rule(ctx, allow, SCMP_SYS(clone), "clone",
                              {SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)});
            !r)
            return r;
    }
    // clone3 passes its flags in memory the filter cannot read: ENOSYS makes
    // glibc (2.34+) retry with clone.
    if (auto r = add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), "clone3"); !r) return r;
    // Signals only to our own threads (pthread_kill of the loop thread, abort).
    return add_rule(ctx, allow, SCMP_SYS(tgkill), "tgkill", {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(::getpid()))});
}

// The /proc/stat records (stat_records.hpp), pinned to their held directory
// fd: a temporary file created write-only, renamed over a record, a counter
// floor opened read-write to be mapped (counter_floor.hpp), records unlinked
// (never a directory); the directory removed from its held parent.
Result<void> add_record_rules(scmp_filter_ctx ctx, const DaemonFilterOptions& options) {
    if (options.records_dir_fd < 0) return {};
    const uint32_t allow = SCMP_ACT_ALLOW;
    const auto dir = static_cast<scmp_datum_t>(options.records_dir_fd);
    constexpr scmp_datum_t kModeBits = O_ACCMODE | O_CREAT | O_TRUNC;
    if (auto r = add_rule(ctx, allow, SCMP_SYS(openat), "openat",
                          {SCMP_A0(SCMP_CMP_EQ, dir), SCMP_A2(SCMP_CMP_MASKED_EQ, kModeBits, O_WRONLY | O_CREAT | O_TRUNC)});
        !r)
        return r;
    if (auto r = add_rule(ctx, allow, SCMP_SYS(openat), "openat",
                          {SCMP_A0(SCMP_CMP_EQ, dir), SCMP_A2(SCMP_CMP_MASKED_EQ, kModeBits, O_RDWR | O_CREAT)});
        !r)
        return r;
    if (auto r = add_rule(ctx, allow, SCMP_SYS(renameat), "renameat", {SCMP_A0(SCMP_CMP_EQ, dir), SCMP_A2(SCMP_CMP_EQ, dir)});
        !r)
        return r;
    if (auto r = add_rule(ctx, allow, SCMP_SYS(renameat2), "renameat2",
                          {SCMP_A0(SCMP_CMP_EQ, dir), SCMP_A2(SCMP_CMP_EQ, dir), SCMP_A4(SCMP_CMP_EQ, 0)});
        !r)
        return r;
    if (auto r = add_rule(ctx, allow, SCMP_SYS(unlinkat), "unlinkat", {SCMP_A0(SCMP_CMP_EQ, dir), SCMP_A2(SCMP_CMP_EQ, 0)});
        !r)
        return r;
    if (options.records_parent_fd < 0) return {};
    return add_rule(ctx, allow, SCMP_SYS(unlinkat), "unlinkat",
                    {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(options.records_parent_fd)),
                     SCMP_A2(SCMP_CMP_EQ, AT_REMOVEDIR)});
}

// Files: after start-up the daemon only reads (cgroup and /proc files,
// /etc/localtime); the log file and the pidfile were opened or written
// before. The path is out of the filter's reach, so the open mode is what it
// checks: read-only, never creating or truncating; O_RDWR only for libfuse's
// per-worker /dev/fuse clones.
Result<void> add_file_rules(scmp_filter_ctx ctx, const DaemonFilterOptions& options) {
    const uint32_t allow = SCMP_ACT_ALLOW;
    constexpr scmp_datum_t kModeBits = O_ACCMODE | O_CREAT | O_TRUNC;
    if (auto r = add_rule(ctx, allow, SCMP_SYS(openat), "openat", {SCMP_A2(SCMP_CMP_MASKED_EQ, kModeBits, O_RDONLY)}); !r)
        return r;
    // The pidfile's removal at exit, in its held directory, never a directory.
    if (options.pidfile_dir_fd >= 0)
        if (auto r = add_rule(ctx, allow, SCMP_SYS(unlinkat), "unlinkat",
                              {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(options.pidfile_dir_fd)),
                               SCMP_A2(SCMP_CMP_EQ, 0)});
            !r)
            return r;
    if (auto r = add_record_rules(ctx, options); !r) return r;
    // SIGTERM: the lazy unmount of the mountpoint if the keeper is gone.
    return add_rule(ctx, allow, SCMP_SYS(umount2), "umount2", {SCMP_A1(SCMP_CMP_EQ, MNT_DETACH)});
}

// The sysinfo agent (sysinfo_agent.hpp), when it listens.
Result<void> add_sysinfo_agent_rules(scmp_filter_ctx ctx, int listener_fd) {
    const uint32_t allow = SCMP_ACT_ALLOW;
    if (listener_fd < 0) return {};
    if (auto r = add_rule(ctx, allow, SCMP_SYS(accept4), "accept4",
                          {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(listener_fd))});
        !r)
        return r;
    for (unsigned long request : {static_cast<unsigned long>(SECCOMP_IOCTL_NOTIF_RECV),
                                  static_cast<unsigned long>(SECCOMP_IOCTL_NOTIF_SEND),
                                  static_cast<unsigned long>(SECCOMP_IOCTL_NOTIF_ID_VALID)})
        if (auto r = add_rule(ctx, allow, SCMP_SYS(ioctl), "ioctl", {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, request)});
            !r)
            return r;
    for (auto [nr, name] : {std::pair{SCMP_SYS(process_vm_writev), "process_vm_writev"},
                            std::pair{SCMP_SYS(epoll_wait), "epoll_wait"}, std::pair{SCMP_SYS(epoll_pwait), "epoll_pwait"},
                            std::pair{SCMP_SYS(epoll_ctl), "epoll_ctl"}, std::pair{SCMP_SYS(sysinfo), "sysinfo"}})
        if (auto r = add_rule(ctx, allow, nr, name); !r) return r;
    return {};
}

Result<void> add_conditional_rules(scmp_filter_ctx ctx, const DaemonFilterOptions& options) {
    const uint32_t allow = SCMP_ACT_ALLOW;
    if (auto r = add_thread_rules(ctx); !r) return r;
    if (auto r = add_file_rules(ctx, options); !r) return r;
    if (auto r = add_sysinfo_agent_rules(ctx, options.sysinfo_listener_fd); !r) return r;
    // Unix datagram sockets only: glibc's syslog() reconnects to /dev/log
    // with one after journald restarts. No stream or seqpacket socket, so no
    // connect to containerd's, Docker's or the kubelet's API sockets.
    if (auto r = add_rule(ctx, allow, SCMP_SYS(socket), "socket",
                          {SCMP_A0(SCMP_CMP_EQ, AF_UNIX), SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM)});
        !r)
        return r;
    // No new executable memory.
    for (auto [nr, name] : {std::pair{SCMP_SYS(mmap), "mmap"}, std::pair{SCMP_SYS(mprotect), "mprotect"}})
        if (auto r = add_rule(ctx, allow, nr, name, {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}); !r) return r;
    // TCGETS: isatty() from the logging sinks.
    if (auto r = add_rule(ctx, allow, SCMP_SYS(ioctl), "ioctl", {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, TCGETS)}); !r)
        return r;
    // Limits of this process only (glibc's getrlimit/setrlimit pass pid 0).
    return add_rule(ctx, allow, SCMP_SYS(prlimit64), "prlimit64", {SCMP_A0(SCMP_CMP_EQ, 0)});
}

}  // namespace

const std::vector<std::string_view>& daemon_syscall_allowlist() {
    static const std::vector<std::string_view> names{
        // Files: cgroup and /proc reads (openat, read-only, below; pread at 0
        // on cached fds), writes only to fds opened before the filter (the
        // log, /dev/fuse, the keeper's socket, stderr).
        "read", "readv", "pread64", "preadv", "write", "writev", "lseek", "close", "fstat",
        "newfstatat", "statx", "fstatfs", "statfs", "readlinkat", "getdents64", "fcntl", "faccessat", "faccessat2",
        // FUSE: requests are read from and replies written to /dev/fuse
        // (read/writev above); poll in libfuse and the keeper watcher.
        "poll", "ppoll",
        // Memory (mmap/mprotect with a PROT_EXEC check below).
        "munmap", "mremap", "madvise", "brk",
        // Threads and time.
        "futex", "set_robust_list", "rseq", "exit", "exit_group", "gettid", "getpid", "getppid",
        "sched_getaffinity", "sched_yield", "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep",
        "clock_nanosleep", "getrandom", "restart_syscall", "uname", "getuid", "geteuid", "getgid", "getegid",
        "getrlimit",
        // Signals: the stop-signal waiter (sigwait), the loops' wake-up handler.
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait",
        // Readers' liveness: pidfd of a container's init.
        "pidfd_open",
        // Watches on cgroup limit files (the inotify fd is created before the filter).
        "inotify_add_watch", "inotify_rm_watch",
        // Unix sockets (socket itself is restricted to AF_UNIX datagrams
        // below): the keeper's connection, syslog, systemd notify.
        "connect", "sendto", "sendmsg", "recvfrom", "recvmsg", "shutdown", "getsockopt",
    };
    return names;
}

Result<void> install_daemon_seccomp_filter(const DaemonFilterOptions& options) {
    Filter ctx(seccomp_init(options.log_only ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EPERM)));
    if (!ctx) return make_error(ENOMEM, "seccomp: create the filter");
    // Every thread that exists now (the keeper watcher, the load sampler…)
    // must be filtered too, not only the caller.
    if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc < 0)
        return make_error(-rc, "seccomp: ask for thread synchronisation");
    for (auto name : daemon_syscall_allowlist()) {
        int nr = resolve(name);
        if (nr == __NR_SCMP_ERROR) continue;
        if (auto r = add_rule(ctx.get(), SCMP_ACT_ALLOW, nr, name); !r) return r;
    }
    if (kSanitized) {
        for (auto name : sanitizer_extras()) {
            int nr = resolve(name);
            if (nr == __NR_SCMP_ERROR) continue;
            if (auto r = add_rule(ctx.get(), SCMP_ACT_ALLOW, nr, name); !r) return r;
        }
    }
    if (auto r = add_conditional_rules(ctx.get(), options); !r) return r;
    if (int rc = seccomp_load(ctx.get()); rc < 0) return make_error(-rc, "seccomp: load the filter");
    return {};
}

}  // namespace procview
