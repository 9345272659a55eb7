#include "fusefs/seccomp.hpp"

#include <linux/fuse.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
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

Result<void> add_conditional_rules(scmp_filter_ctx ctx) {
    const uint32_t allow = SCMP_ACT_ALLOW;
    // Threads (libfuse's worker pool, the sampler, the keeper watcher), never a
    // new process: fork/vfork/posix_spawn lack CLONE_THREAD.
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
    // Unix sockets only: syslog (/dev/log), systemd's notify socket, the keeper.
    if (auto r = add_rule(ctx, allow, SCMP_SYS(socket), "socket", {SCMP_A0(SCMP_CMP_EQ, AF_UNIX)}); !r) return r;
    // No new executable memory.
    for (auto [nr, name] : {std::pair{SCMP_SYS(mmap), "mmap"}, std::pair{SCMP_SYS(mprotect), "mprotect"}})
        if (auto r = add_rule(ctx, allow, nr, name, {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}); !r) return r;
    // FUSE_DEV_IOC_CLONE: each worker of the multi-threaded loop clones the
    // /dev/fuse fd. TCGETS: isatty() from the logging sinks.
    for (unsigned long request : {static_cast<unsigned long>(FUSE_DEV_IOC_CLONE), static_cast<unsigned long>(TCGETS)})
        if (auto r = add_rule(ctx, allow, SCMP_SYS(ioctl), "ioctl", {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, request)});
            !r)
            return r;
    // Signals only to our own threads (pthread_kill of the loop thread, abort).
    if (auto r = add_rule(ctx, allow, SCMP_SYS(tgkill), "tgkill",
                          {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(::getpid()))});
        !r)
        return r;
    return {};
}

}  // namespace

const std::vector<std::string_view>& daemon_syscall_allowlist() {
    static const std::vector<std::string_view> names{
        // Files: cgroup and /proc reads (openat on held directory fds, pread
        // at 0 on cached fds), the log file, the pidfile's removal at exit.
        "read", "readv", "pread64", "preadv", "write", "writev", "lseek", "close", "openat", "fstat",
        "newfstatat", "statx", "fstatfs", "statfs", "readlinkat", "getdents64", "fcntl", "faccessat", "faccessat2",
        "unlink",
        // /proc/stat records (stat_records.hpp): written atomically, removed.
        "unlinkat", "renameat", "renameat2",
        // FUSE: requests are read from and replies written to /dev/fuse
        // (read/writev above); poll in libfuse and the keeper watcher.
        "poll", "ppoll",
        // Memory (mmap/mprotect with a PROT_EXEC check below).
        "munmap", "mremap", "madvise", "brk",
        // Threads and time.
        "futex", "set_robust_list", "rseq", "exit", "exit_group", "gettid", "getpid", "getppid",
        "sched_getaffinity", "sched_yield", "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep",
        "clock_nanosleep", "getrandom", "restart_syscall", "uname", "getuid", "geteuid", "getgid", "getegid",
        "prlimit64", "getrlimit",
        // Signals: SIGTERM/SIGINT/SIGHUP handlers, thread wake-ups.
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
        // Readers' liveness: pidfd of a container's init.
        "pidfd_open",
        // Writes to cgroup limit files (the fd itself is created before the filter).
        "inotify_add_watch",
        // Unix sockets (socket itself is restricted to AF_UNIX below): the
        // keeper, syslog, systemd notify.
        "connect", "sendto", "sendmsg", "recvfrom", "recvmsg", "shutdown", "getsockopt",
        // SIGTERM: unmount the filesystem.
        "umount2",
    };
    return names;
}

Result<void> install_daemon_seccomp_filter(bool log_only) {
    Filter ctx(seccomp_init(log_only ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EPERM)));
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
    if (auto r = add_conditional_rules(ctx.get()); !r) return r;
    if (int rc = seccomp_load(ctx.get()); rc < 0) return make_error(-rc, "seccomp: load the filter");
    return {};
}

}  // namespace procview
