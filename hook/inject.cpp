#include "hook/inject.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "hook/propagation.hpp"
#include "platform/bounded_child.hpp"
#include "platform/health.hpp"
#include "platform/unique_fd.hpp"

namespace procview::hook {

namespace {

// ---- thin syscall wrappers (glibc before 2.36 has none) ---------------------

int sys_open_tree(int dfd, const char* path, unsigned flags) {
    return static_cast<int>(::syscall(SYS_open_tree, dfd, path, flags));
}
int sys_move_mount(int from_dfd, const char* from, int to_dfd, const char* to, unsigned flags) {
    return static_cast<int>(::syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags));
}
int sys_mount_setattr(int dfd, const char* path, unsigned flags, struct mount_attr* attr) {
    return static_cast<int>(::syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof *attr));
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

std::string errno_text(int err) { return std::strerror(err); }

// ---- what the parent prepares in the host's namespace ----------------------

// How the child reports each plan entry: one line "<index> <kind> <reason>".
constexpr char kMounted = 'M', kAbsent = 'A', kSkipped = 'S', kFailed = 'F';

struct PreparedSource {
    UniqueFd tree;       // new API: a detached, read-only clone of the source
    std::string path;    // legacy API: the source's path (valid in the container's namespace too)
    char unusable = 0;   // kAbsent or kSkipped: do not mount, for `reason`
    std::string reason;
};

bool kind_matches(const struct stat& st, EntryKind kind) {
    return kind == EntryKind::directory ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

// A source is relative to procviewfs's mountpoint, or absolute (another
// mount: hook.containers_mountpoint).
std::string source_path(const std::string& mountpoint, const PlannedMount& m) {
    return m.source.starts_with('/') ? m.source : mountpoint + "/" + m.source;
}

// Clones `source` under the mountpoint into a detached mount with the
// container's flags. ENOSYS comes back as an Error so the caller can fall
// back to the legacy API; other problems become a skip reason.
Result<PreparedSource> prepare_new_api(const std::string& mountpoint, const PlannedMount& m) {
    PreparedSource out;
    out.path = source_path(mountpoint, m);
    int fd = sys_open_tree(AT_FDCWD, out.path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOSYS) return make_error(ENOSYS, "open_tree");
        out.unusable = errno == ENOENT ? kAbsent : kSkipped;
        out.reason = errno == ENOENT ? "procviewfs serves no `" + m.source + "`"
                                     : "open_tree `" + out.path + "`: " + errno_text(errno);
        return out;
    }
    out.tree.reset(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        out.unusable = kSkipped;
        out.reason = "stat `" + out.path + "`: " + errno_text(errno);
        return out;
    }
    if (!kind_matches(st, m.kind)) {
        out.unusable = kSkipped;
        out.reason = "source `" + out.path + "` is not a " + (m.kind == EntryKind::file ? "file" : "directory");
        return out;
    }
    struct mount_attr attr {};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    attr.propagation = MS_PRIVATE;  // nothing mounted later on either side travels to the other
    if (sys_mount_setattr(fd, "", AT_EMPTY_PATH, &attr) != 0) {
        if (errno == ENOSYS) return make_error(ENOSYS, "mount_setattr");
        out.unusable = kSkipped;
        out.reason = "mount_setattr `" + out.path + "`: " + errno_text(errno);
    }
    return out;
}

// ---- what the helper child does inside the container's namespace ----------

struct ChildContext {
    const std::string& rootfs;
    const std::string& mountpoint;
    const std::vector<PlannedMount>& plan;
    MountApi api = MountApi::automatic;
    ResolveMethod resolve = ResolveMethod::automatic;
};

// Legacy API: bind by path, then remount the new mount read-only. The
// remount is done on a fresh resolution of the target, which now is the
// bind mount's root.
std::string mount_legacy(int root_fd, const PlannedMount& m, const PreparedSource& src, int target_fd,
                         ResolveMethod resolve) {
    UniqueFd source(::open(src.path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!source) return "open source `" + src.path + "`: " + errno_text(errno);
    struct statfs sfs {};
    struct stat st {};
    if (::fstatfs(source.get(), &sfs) != 0 || ::fstat(source.get(), &st) != 0)
        return "stat source `" + src.path + "`: " + errno_text(errno);
    if (static_cast<long>(sfs.f_type) != kFuseSuperMagic || !kind_matches(st, m.kind))
        return "source `" + src.path + "` is not procviewfs's " + (m.kind == EntryKind::file ? "file" : "directory");
    if (::mount(fd_path(source.get()).c_str(), fd_path(target_fd).c_str(), nullptr, MS_BIND, nullptr) != 0)
        return "bind `" + src.path + "`: " + errno_text(errno);
    auto top = open_in_root(root_fd, m.target, resolve);
    if (!top) return "reopen after bind: " + top.error().message;
    const std::string top_path = fd_path(top->get());
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (::mount(nullptr, top_path.c_str(), nullptr, flags, nullptr) != 0 ||
        ::mount(nullptr, top_path.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
        int err = errno;
        ::umount2(top_path.c_str(), MNT_DETACH);  // never leave a writable view behind
        return "remount read-only: " + errno_text(err);
    }
    return {};
}

// One line per entry, written as soon as it is known: when the helper is
// stopped at the deadline, the parent still learns what was mounted before.
void report(int fd, std::size_t index, char kind, const std::string& reason) {
    std::string line = std::to_string(index) + ' ' + kind + ' ';
    for (char c : reason) line += c == '\n' ? ' ' : c;
    line += '\n';
    std::string_view left = line;
    while (!left.empty()) {
        ssize_t n = ::write(fd, left.data(), left.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ::_exit(1);
        left.remove_prefix(static_cast<std::size_t>(n));
    }
}

// "E <errno> <message>": the parent rebuilds the Error (core/result.hpp's contract).
int fatal(int fd, const Error& error) {
    std::string line = "E " + std::to_string(error.errnum) + " " + error.message + "\n";
    return ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) ? 0 : 1;
}

// Clones every source in the host's namespace (new API), or notes the
// paths (legacy). Touches procviewfs: runs in the helper, under the deadline.
Result<std::vector<PreparedSource>> prepare_sources(const ChildContext& ctx, bool& legacy) {
    std::vector<PreparedSource> sources(ctx.plan.size());
    legacy = ctx.api == MountApi::legacy;
    for (std::size_t i = 0; i < ctx.plan.size() && !legacy; ++i) {
        auto prepared = prepare_new_api(ctx.mountpoint, ctx.plan[i]);
        if (prepared) {
            sources[i] = std::move(*prepared);
            continue;
        }
        if (ctx.api == MountApi::new_api) return prepared.error().context("the new mount API is required but missing");
        legacy = true;  // kernel before 5.12: no open_tree or mount_setattr
    }
    if (legacy) {
        sources.clear();
        sources.resize(ctx.plan.size());
        for (std::size_t i = 0; i < ctx.plan.size(); ++i) sources[i].path = source_path(ctx.mountpoint, ctx.plan[i]);
    }
    return sources;
}

// Checks one opened target and mounts its view onto it; "" when mounted.
std::pair<char, std::string> mount_one(int root_fd, const PlannedMount& m, const PreparedSource& src, int target_fd,
                                       bool legacy, ResolveMethod resolve) {
    struct stat st {};
    struct statfs sfs {};
    if (::fstat(target_fd, &st) != 0 || ::fstatfs(target_fd, &sfs) != 0)
        return {kFailed, "stat `" + m.target + "`: " + errno_text(errno)};
    if (auto why = target_mismatch(st.st_mode, static_cast<long>(sfs.f_type), m.kind, m.fs))
        return {kSkipped, "`" + m.target + "` " + *why};
    // Before anything is attached: a shared parent would copy the view to
    // its peers, the host's included.
    if (auto r = make_parent_mount_slave(root_fd, m.target, target_fd, resolve); !r)
        return {kFailed, r.error().describe()};
    if (legacy) {
        auto failure = mount_legacy(root_fd, m, src, target_fd, resolve);
        return {failure.empty() ? kMounted : kFailed, failure};
    }
    if (sys_move_mount(src.tree.get(), "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        return {kFailed, "move_mount onto `" + m.target + "`: " + errno_text(errno)};
    return {kMounted, ""};
}

int mount_helper(int report_fd, int ns_fd, const ChildContext& ctx) {
    bool legacy = false;
    auto sources = prepare_sources(ctx, legacy);
    if (!sources) return fatal(report_fd, sources.error());
    if (::setns(ns_fd, CLONE_NEWNS) != 0)
        return fatal(report_fd, make_error(errno, "setns into the container's mount namespace"));
    // After setns the root and cwd are the namespace's: the rootfs path is
    // the runtime's own (from config.json), not the image's, so it may be
    // followed normally.
    UniqueFd root(::open(ctx.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root)
        return fatal(report_fd, make_error(errno, "open rootfs `" + ctx.rootfs + "` in the container's namespace"));
    for (std::size_t i = 0; i < ctx.plan.size(); ++i) {
        const PlannedMount& m = ctx.plan[i];
        const PreparedSource& src = (*sources)[i];
        if (src.unusable != 0) {
            report(report_fd, i, src.unusable, src.reason);
            continue;
        }
        auto target = open_in_root(root.get(), m.target, ctx.resolve);
        if (!target) {
            const int err = target.error().errnum;
            const char kind = err == ENOENT ? kAbsent : (err == ELOOP || err == ENOTDIR || err == EXDEV) ? kSkipped : kFailed;
            report(report_fd, i, kind, target.error().message);
            continue;
        }
        auto [kind, reason] = mount_one(root.get(), m, src, target->get(), legacy, ctx.resolve);
        report(report_fd, i, kind, reason);
    }
    return 0;
}

// ---- the parent's side ----------------------------------------------------

Result<void> check_not_own_namespace(int ns_fd, pid_t pid) {
    struct stat theirs {}, ours {};
    if (::fstat(ns_fd, &theirs) != 0) return make_error(errno, "stat mount namespace of pid " + std::to_string(pid));
    if (::stat("/proc/self/ns/mnt", &ours) != 0) return make_error(errno, "stat /proc/self/ns/mnt");
    if (theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev)
        return make_error(EPERM, "pid " + std::to_string(pid) +
                                 " is in the hook's own mount namespace: mounting there would change the host");
    return {};
}

// The container's mount namespace, opened so that a recycled pid cannot
// hand over another process's: a pidfd pins the process first, the ns file
// is opened by path, then the process must not have exited (while it holds
// the pid, the pid cannot name anyone else). Before Linux 5.3 (no
// pidfd_open) the path alone.
Result<UniqueFd> open_mount_namespace(pid_t pid) {
    const std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/mnt";
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd && errno != ENOSYS) return make_error(errno, "open `" + ns_path + "` (is the container's process alive?)");
    UniqueFd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) return make_error(errno, "open `" + ns_path + "` (is the container's process alive?)");
    struct pollfd pfd {pidfd.get(), POLLIN, 0};
    if (pidfd && ::poll(&pfd, 1, 0) != 0)
        return make_error(ESRCH, "pid " + std::to_string(pid) + " exited while its mount namespace was opened");
    return ns;
}

// The helper's "E <errno> <message>" line as the Error it reported.
Error helper_error(std::string_view rest) {
    int errnum = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), errnum);
    if (ec != std::errc{} || errnum <= 0 || end == rest.data() + rest.size() || *end != ' ')
        return make_error(EIO, "the mount helper: " + std::string(rest));
    return make_error(errnum, std::string(end + 1, rest.data() + rest.size()));
}

Result<std::vector<MountResult>> parse_report(std::string_view text, const std::vector<PlannedMount>& plan) {
    std::vector<MountResult> results;
    results.reserve(plan.size());
    for (const auto& m : plan) results.push_back(MountResult{m, Outcome::failed, "no report from the mount helper"});
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (line.starts_with("E ")) return helper_error(line.substr(2));
        std::size_t index = 0;
        auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), index);
        std::size_t consumed = static_cast<std::size_t>(end - line.data());
        if (ec != std::errc{} || index >= plan.size() || line.size() < consumed + 3) continue;
        char kind = line[consumed + 1];
        std::string reason(line.substr(consumed + 3));
        results[index].outcome = kind == kMounted ? Outcome::mounted
                                 : kind == kAbsent ? Outcome::absent
                                 : kind == kSkipped ? Outcome::skipped
                                                    : Outcome::failed;
        results[index].reason = std::move(reason);
    }
    return results;
}

}  // namespace

Result<std::vector<MountResult>> inject_mounts(pid_t pid, const std::string& rootfs, const std::string& mountpoint,
                                               const std::vector<PlannedMount>& plan, const InjectOptions& options,
                                               Deadline deadline) {
    auto ns = open_mount_namespace(pid);
    if (!ns) return ns.error();
    if (auto r = check_not_own_namespace(ns->get(), pid); !r) return r.error();

    ChildContext ctx{rootfs, mountpoint, plan, options.api, options.resolve};
    const auto bound_ms = ms_left(deadline);
    auto child = run_child_until(deadline, [&](int report_fd) { return mount_helper(report_fd, ns->get(), ctx); });
    if (!child) return child.error().context("start the mount helper");
    auto results = parse_report(child->report, plan);
    if (child->timed_out) {
        std::string done;
        if (results)
            for (const auto& r : *results)
                if (r.outcome == Outcome::mounted) done += (done.empty() ? " /" : ", /") + r.mount.target;
        return make_error(ETIMEDOUT, "the mount helper did not finish within " + std::to_string(bound_ms) +
                                 " ms (procviewfs stopped answering?); mounted by then:" +
                                 (done.empty() ? " nothing" : done));
    }
    if (!results) return results.error();
    if (!WIFEXITED(child->status) || WEXITSTATUS(child->status) != 0)
        return make_error(ECHILD, "the mount helper died (status " + std::to_string(child->status) + ")");
    return results;
}

}  // namespace procview::hook
