#include "shim/time_namespace_io.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string_view>

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

NamespaceId id_of(const struct stat& st) { return NamespaceId{static_cast<uint64_t>(st.st_dev), st.st_ino}; }

std::string describe_ns(const NamespaceId& ns) { return std::to_string(ns.dev) + ":" + std::to_string(ns.ino); }

Result<NamespaceId> namespace_of(int fd, std::string_view what) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return make_error(errno, "fstat " + std::string(what));
    return id_of(st);
}

// mkdir -p with runc's mode for its root (0700): the first create may come before the runtime made it.
Result<void> make_directories(const std::string& dir) {
    for (std::size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
        std::string prefix = dir.substr(0, slash);
        if (!prefix.empty() && ::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
            return make_error(errno, "mkdir `" + prefix + "`");
        if (slash == std::string::npos) return {};
    }
}

// Written next to the record and renamed over it, so whatever was there
// (a stale record, or a file someone else planted) is replaced, never written through.
Result<void> write_record(const std::string& path, const NamespaceId& ns) {
    auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0)
        if (auto made = make_directories(path.substr(0, slash)); !made) return made.error();
    std::string temp = path + "." + std::to_string(::getpid());
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return make_error(errno, "create `" + temp + "`");
    std::string text = format_time_namespace_record(ns);
    bool written = ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
    int saved = errno;
    fd.reset();
    if (!written || ::rename(temp.c_str(), path.c_str()) != 0) {
        if (written) saved = errno;
        ::unlink(temp.c_str());
        return make_error(saved, "record the time namespace in `" + path + "`");
    }
    return {};
}

// nullopt when there is no record; an error when it is not one this euid wrote.
Result<std::optional<NamespaceId>> read_record(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT || errno == ENOTDIR) return std::optional<NamespaceId>();
        return make_error(errno, "open `" + path + "`");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return make_error(errno, "fstat `" + path + "`");
    if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return make_error(EPERM, "`" + path + "` is not a record procview-runtime wrote (owner " +
                                     std::to_string(st.st_uid) + ", mode " + mode + ")");
    }
    char buf[64];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return make_error(errno, "read `" + path + "`");
    auto ns = parse_time_namespace_record(std::string_view(buf, static_cast<std::size_t>(n)));
    if (!ns) return make_error(EINVAL, "`" + path + "` is not a time namespace record");
    return std::optional<NamespaceId>(*ns);
}

// Why `target` (the init's time namespace, `who` for the log) is not one
// procview-runtime made for this container; nullopt when it is. The owner
// first: a namespace owned by another user namespace was made by someone
// privileged only there (a container's root), whatever a record says.
Result<std::optional<TimeNamespaceJoin>> why_not_ours(int target, const NamespaceId& target_id,
                                                      const std::string& record_path, const std::string& who) {
    using Outcome = TimeNamespaceJoin::Outcome;
    auto refuse = [&](Outcome outcome, const std::string& why) {
        return std::optional<TimeNamespaceJoin>(TimeNamespaceJoin{outcome, "not joining " + who + ": " + why});
    };
    UniqueFd owner(::ioctl(target, NS_GET_USERNS));
    if (!owner) {
        // EPERM: the owner is outside the shim's user namespace.
        if (errno == EPERM) return refuse(Outcome::not_ours, "it is owned by a user namespace outside the shim's");
        return make_error(errno, "ioctl(NS_GET_USERNS) on " + who);
    }
    UniqueFd own_user(::open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC));
    if (!own_user) return make_error(errno, "open `/proc/self/ns/user`");
    auto owner_id = namespace_of(owner.get(), "the owner of " + who);
    if (!owner_id) return owner_id.error();
    auto own_user_id = namespace_of(own_user.get(), "/proc/self/ns/user");
    if (!own_user_id) return own_user_id.error();
    if (*owner_id != *own_user_id)
        return refuse(Outcome::not_ours, "it is owned by user namespace " + describe_ns(*owner_id) +
                                             ", not the shim's " + describe_ns(*own_user_id) +
                                             " (made inside the container, not by procview-runtime)");
    auto recorded = read_record(record_path);
    if (!recorded) return refuse(Outcome::not_ours, recorded.error().describe());
    if (!*recorded) return refuse(Outcome::unrecorded, "procview-runtime did not make it (no " + record_path + ")");
    if (**recorded != target_id)
        return refuse(Outcome::not_ours, "it is " + describe_ns(target_id) + ", not " + describe_ns(**recorded) +
                                             ", the one procview-runtime made for this container (" + record_path + ")");
    return std::optional<TimeNamespaceJoin>();
}

struct FoundInit {
    RecordedInit init;
    std::string state_file;
};

// The init recorded in the first of `state_files` that exists; nullopt when none does.
Result<std::optional<FoundInit>> find_recorded_init(const std::vector<std::string>& state_files) {
    for (const auto& candidate : state_files) {
        auto text = read_file(candidate);
        if (!text) {
            if (text.error().errnum != ENOENT && text.error().errnum != ENOTDIR) return text.error();
            continue;
        }
        auto init = parse_runtime_state(*text);
        if (!init) return init.error().context("`" + candidate + "`");
        return std::optional<FoundInit>(FoundInit{*init, candidate});
    }
    return std::optional<FoundInit>();
}

// The namespace this process now runs in, recorded as procview-runtime's.
Result<void> record_own_time_namespace(const std::string& record_path) {
    auto now = open_own_time_namespace();
    if (!now) return now.error();
    auto ns = namespace_of(now->get(), kOwnTimeNs);
    if (!ns) return ns.error();
    return write_record(record_path, *ns);
}

}  // namespace

Result<std::string> enter_new_time_namespace(const std::string& record_path) {
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
    auto made = record_own_time_namespace(record_path);
    if (!made) {
        if (auto back = restore(*own); !back) return back.error().context(made.error().describe());
        return made.error();
    }
    return "new time namespace, boottime offset " + std::to_string(offset->seconds) +
           " s (the container's uptime starts at ~" + std::to_string(kBoottimeMarginSeconds) + " s)";
}

Result<TimeNamespaceJoin> join_container_time_namespace(const std::vector<std::string>& state_files,
                                                        const std::string& record_path) {
    using Outcome = TimeNamespaceJoin::Outcome;
    auto found = find_recorded_init(state_files);
    if (!found) return found.error();
    if (!*found) return TimeNamespaceJoin{};
    const auto& [init, state_file] = **found;

    std::string ns_path = "/proc/" + std::to_string(init.pid) + "/ns/time";
    UniqueFd target(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!target) {
        if (errno == ENOENT || errno == ESRCH) return TimeNamespaceJoin{};  // the init is gone
        return make_error(errno, "open `" + ns_path + "`");
    }
    auto own = open_own_time_namespace();
    if (!own) return own.error();
    auto target_id = namespace_of(target.get(), ns_path);
    if (!target_id) return target_id.error();
    auto own_id = namespace_of(own->get(), kOwnTimeNs);
    if (!own_id) return own_id.error();
    if (*target_id == *own_id) return TimeNamespaceJoin{};

    std::string who = "the time namespace of init " + std::to_string(init.pid) + " (" + state_file + ")";
    auto refused = why_not_ours(target.get(), *target_id, record_path, who);
    if (!refused) return refused.error();
    if (*refused) return std::move(**refused);

    if (::setns(target.get(), CLONE_NEWTIME) != 0) return make_error(errno, "setns(`" + ns_path + "`, CLONE_NEWTIME)");
    if (init.start_ticks) {
        // A recycled pid, or a runtime that recorded the start from outside (it ran outside).
        auto inside = start_ticks(init.pid);
        if (!inside || *inside != *init.start_ticks) {
            std::string why = inside ? "the init's start time reads " + std::to_string(*inside) +
                                           " in its time namespace, the runtime recorded " +
                                           std::to_string(*init.start_ticks)
                                     : inside.error().describe();
            if (auto back = restore(*own); !back) return back.error().context(why);
            return make_error(ESRCH, why + "; staying outside");
        }
    }
    return TimeNamespaceJoin{Outcome::joined, "joined " + who};
}

Result<void> remove_time_namespace_record(const std::string& record_path) {
    if (::unlink(record_path.c_str()) != 0 && errno != ENOENT)
        return make_error(errno, "remove `" + record_path + "`");
    return {};
}

}  // namespace procview::shim
