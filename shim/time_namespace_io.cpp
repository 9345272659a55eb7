#include "shim/time_namespace_io.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "core/cgroup_files.hpp"
#include "core/proc_files.hpp"
#include "platform/fs.hpp"
#include "platform/unique_fd.hpp"
#include "shim/time_namespace.hpp"

namespace procview::shim {
namespace {

constexpr const char* kOwnTimeNs = "/proc/self/ns/time";
constexpr const char* kOwnOffsets = "/proc/self/timens_offsets";

Result<UniqueFd> open_own_time_namespace() {
    UniqueFd fd(::open(kOwnTimeNs, O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return make_error(ENOENT, "this kernel has no time namespaces (no /proc/self/ns/time)");
        return make_error(errno, std::string("open `") + kOwnTimeNs + "`");
    }
    return fd;
}

// Back to the namespace `own` names, for this process and its children.
Result<void> restore(const UniqueFd& own) {
    if (::setns(own.get(), CLONE_NEWTIME) != 0) return make_error(errno, "setns back to the shim's time namespace");
    return {};
}

// setns into the namespace unshare(CLONE_NEWTIME) made for our children.
Result<void> enter_namespace_for_children() {
    constexpr const char* kForChildren = "/proc/self/ns/time_for_children";
    UniqueFd fd(::open(kForChildren, O_RDONLY | O_CLOEXEC));
    if (!fd) return make_error(errno, std::string("open `") + kForChildren + "`");
    if (::setns(fd.get(), CLONE_NEWTIME) != 0) return make_error(errno, "setns into the new time namespace");
    return {};
}

Result<int64_t> boottime_ns() {
    timespec ts{};
    if (::clock_gettime(CLOCK_BOOTTIME, &ts) != 0) return make_error(errno, "clock_gettime(CLOCK_BOOTTIME)");
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// With the new namespace unshared: read the offsets it inherited, write ours.
Result<ClockOffset> set_offset() {
    auto inherited_text = read_file(kOwnOffsets);
    if (!inherited_text) return inherited_text.error();
    auto inherited = parse_timens_offsets(*inherited_text);
    if (!inherited) return inherited.error().context(kOwnOffsets);
    auto now = boottime_ns();
    if (!now) return now.error();
    ClockOffset offset = new_container_boottime_offset(*now, inherited->boottime);
    std::string record = format_boottime_offset(offset);
    UniqueFd fd(::open(kOwnOffsets, O_WRONLY | O_CLOEXEC));
    if (!fd) return make_error(errno, std::string("open `") + kOwnOffsets + "` for writing");
    if (::write(fd.get(), record.data(), record.size()) != static_cast<ssize_t>(record.size()))
        return make_error(errno, std::string("write `") + record.substr(0, record.size() - 1) + "` to " + kOwnOffsets);
    return offset;
}

Result<uint64_t> start_ticks(pid_t pid) {
    auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!text) return text.error();
    auto parsed = parse_proc_pid_stat(*text);
    if (!parsed) return parsed.error();
    return parsed->start_ticks;
}

}  // namespace

Result<std::string> enter_new_time_namespace() {
    auto own = open_own_time_namespace();
    if (!own) return own.error();
    if (::unshare(CLONE_NEWTIME) != 0) return make_error(errno, "unshare(CLONE_NEWTIME)");
    auto offset = set_offset();
    if (!offset) {
        if (auto back = restore(*own); !back) return back.error().context(offset.error().describe());
        return offset.error();
    }
    // Enter it now rather than rely on execve to: kernels before the
    // "switch timens when a task gets a new mm" change (Debian 12's 6.1 among
    // them) leave an exec'd process outside, and a process whose namespace
    // differs from its children's cannot create threads (clone fails with
    // EINVAL, so the Go runtime of runc dies at start).
    if (auto entered = enter_namespace_for_children(); !entered) {
        if (auto back = restore(*own); !back) return back.error().context(entered.error().describe());
        return entered.error();
    }
    return "new time namespace, boottime offset " + std::to_string(offset->seconds) +
           " s (the container's uptime starts at ~" + std::to_string(kBoottimeMarginSeconds) + " s)";
}

Result<std::optional<std::string>> join_container_time_namespace(const std::vector<std::string>& state_files) {
    std::optional<std::string> state_text;
    std::string state_file;
    for (const auto& candidate : state_files) {
        auto text = read_file(candidate);
        if (text) {
            state_text = std::move(*text);
            state_file = candidate;
            break;
        }
        if (text.error().errnum != ENOENT && text.error().errnum != ENOTDIR) return text.error();
    }
    if (!state_text) return std::optional<std::string>();
    auto init = parse_runtime_state(*state_text);
    if (!init) return init.error().context("`" + state_file + "`");

    std::string ns_path = "/proc/" + std::to_string(init->pid) + "/ns/time";
    UniqueFd target(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!target) {
        if (errno == ENOENT || errno == ESRCH) return std::optional<std::string>();  // the init is gone
        return make_error(errno, "open `" + ns_path + "`");
    }
    auto own = open_own_time_namespace();
    if (!own) return own.error();
    struct stat target_st {}, own_st {};
    if (::fstat(target.get(), &target_st) != 0 || ::fstat(own->get(), &own_st) != 0)
        return make_error(errno, "fstat time namespaces");
    if (target_st.st_ino == own_st.st_ino && target_st.st_dev == own_st.st_dev) return std::optional<std::string>();

    if (::setns(target.get(), CLONE_NEWTIME) != 0) return make_error(errno, "setns(`" + ns_path + "`, CLONE_NEWTIME)");
    if (init->start_ticks) {
        // A recycled pid, or a runtime that recorded the start from outside (it ran outside).
        auto inside = start_ticks(init->pid);
        if (!inside || *inside != *init->start_ticks) {
            std::string why = inside ? "the init's start time reads " + std::to_string(*inside) +
                                           " in its time namespace, the runtime recorded " +
                                           std::to_string(*init->start_ticks)
                                     : inside.error().describe();
            if (auto back = restore(*own); !back) return back.error().context(why);
            return make_error(ESRCH, why + "; staying outside");
        }
    }
    return std::optional<std::string>("joined the time namespace of init " + std::to_string(init->pid) + " (" +
                                      state_file + ")");
}

}  // namespace procview::shim
