#include "shim/bundle_edit.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "platform/fs.hpp"
#include "platform/health.hpp"
#include "platform/unique_fd.hpp"
#include "shim/seccomp_edit.hpp"
#include "shim/spec_edit.hpp"
#include "shim/time_namespace.hpp"

namespace procview::shim {
namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
    return out;
}

Result<BundleEditOutcome> add_hook(Spec& spec, OptIn opt_in, const Config& config, const std::string& config_path) {
    const auto& hook_path = config.runtime.hook_path;
    if (has_procview_hook(spec, hook_path)) return BundleEditOutcome{false, "procview-hook already in the spec", {}};
    // A hook runc cannot execute fails the container: refuse to add it instead.
    if (::access(hook_path.c_str(), X_OK) != 0)
        return make_error(errno, "runtime.hook_path `" + hook_path + "` is not executable");
    add_procview_hook(spec, HookEntry{hook_path, config_path});
    // The hook acts on the annotation; under enable_all make the opt-in visible to it.
    if (opt_in == OptIn::runtime) mark_opted_in(spec);
    return BundleEditOutcome{true, "added procview-hook as a createRuntime hook (" + std::string(describe(opt_in)) + ")",
                             {}};
}

// hook.per_container: MOUNT/containers/self of the first of
// hook.containers_mountpoint and the mountpoint where this process reads its
// own containers/self/proc/uptime within health_timeout_ms; "" (the shared
// files) when neither does or the spec has a user namespace. Says which in `notes`.
std::string choose_container_dir(const Spec& spec, const Config& config, std::vector<std::string>& notes) {
    if (!config.hook.per_container) return {};
    if (spec_has_user_namespace(spec)) {
        notes.push_back("per-container files: the spec has a user namespace, where the runtime opens mount sources "
                        "from a process that is not the container's init; binding the shared proc/ files");
        return {};
    }
    const auto timeout = std::chrono::milliseconds(config.hook.health_timeout_ms);
    for (const std::string& mount : {config.hook.containers_mountpoint, config.mountpoint}) {
        if (mount.empty()) continue;
        auto served = check_procview_serving(mount, "containers/self/proc/uptime", timeout,
                                             std::chrono::steady_clock::now() + timeout);
        if (served) {
            notes.push_back("per-container files: binding " + self_container_dir(mount) + "/proc/*");
            return self_container_dir(mount);
        }
        notes.push_back("per-container files at " + mount + ": " + served.error().describe());
    }
    notes.push_back("per-container files: binding the shared proc/ files");
    return {};
}

Result<BundleEditOutcome> add_mounts(Spec& spec, OptIn opt_in, const Config& config) {
    auto serving = check_procview_serving(config.mountpoint, std::chrono::milliseconds(config.hook.health_timeout_ms));
    if (!serving) return serving.error().context("procviewfs at `" + config.mountpoint + "`");
    BundleEditOutcome out;
    std::string container_dir = choose_container_dir(spec, config, out.notes);
    auto selection =
        select_mounts(spec_annotation(spec, kFilesAnnotation), config.hook.files, config.mountpoint, container_dir);
    auto added = add_procview_mounts(spec, selection.mounts);
    out.changed = !added.empty();
    out.summary = added.empty() ? "every procview mount is already in the spec"
                                : "added bind mounts of " + join(added) + " (" + std::string(describe(opt_in)) + ")";
    out.notes.insert(out.notes.end(), selection.notes.begin(), selection.notes.end());
    return out;
}

// Adds the sysinfo notify rule when the agent serves; a note (or, under
// fail_closed, an error) when it does not.
Result<void> add_sysinfo(Spec& spec, const Config& config, const SysinfoRequest& request, BundleEditOutcome& out) {
    const std::string& path = config.sysinfo_listener_path;
    if (auto serving = check_listener_serving(path); !serving) {
        std::string why = "sysinfo: procviewfs's listener " + serving.error().describe() +
                          "; the container's sysinfo(2) shows the host";
        if (config.runtime.fail_closed) return make_error(serving.error().errnum, why);
        out.notes.push_back(why);
        return {};
    }
    auto edit = add_sysinfo_notify(spec, SysinfoNotify{path, "procview:" + request.container_id});
    if (!edit) return edit.error().context("sysinfo");
    switch (*edit) {
        case SysinfoEdit::added:
            out.changed = true;
            out.notes.push_back("sysinfo: answered by procviewfs (seccomp notify to " + path + ")");
            break;
        case SysinfoEdit::already: break;
        case SysinfoEdit::other_listener:
            out.notes.push_back("sysinfo: the spec's seccomp profile has another listenerPath; left to it");
            break;
    }
    return {};
}

}  // namespace

Result<void> check_listener_serving(const std::string& path) {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path) return make_error(ENAMETOOLONG, "`" + path + "`");
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) return make_error(errno, "`" + path + "`");
    if (!S_ISSOCK(st.st_mode) || st.st_uid != 0) return make_error(EPERM, "`" + path + "` is not a socket owned by root");
    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!sock) return make_error(errno, "socket");
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    // EAGAIN: a full backlog, i.e. a listener that is busy, not gone.
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EAGAIN)
        return make_error(errno, "`" + path + "`");
    return {};
}

Result<void> replace_file(const std::string& path, std::string_view content) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return make_error(errno, "stat `" + path + "`");
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    std::string temp = dir + "." + base + ".procview-" + std::to_string(::getpid());

    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777));
    if (!fd) return make_error(errno, "create `" + temp + "`");
    std::string_view rest = content;
    while (!rest.empty()) {
        ssize_t n = ::write(fd.get(), rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int saved = errno;
            ::unlink(temp.c_str());
            return make_error(saved, "write `" + temp + "`");
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    // Keep the owner for rootless bundles written by another user (best effort as root).
    if (::fchown(fd.get(), st.st_uid, st.st_gid) != 0 && errno != EPERM) {
        int saved = errno;
        ::unlink(temp.c_str());
        return make_error(saved, "chown `" + temp + "`");
    }
    fd.reset();
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        int saved = errno;
        ::unlink(temp.c_str());
        return make_error(saved, "rename `" + temp + "` to `" + path + "`");
    }
    return {};
}

Result<BundleEditOutcome> edit_bundle_spec(const std::string& spec_file, const Config& config,
                                           const std::string& config_path, const SysinfoRequest& sysinfo) {
    auto text = read_file(spec_file);
    if (!text) return text.error().context("spec `" + spec_file + "`");
    auto spec = parse_spec(*text);
    if (!spec) return spec.error().context("spec `" + spec_file + "`");

    OptIn opt_in = decide_opt_in(*spec, config.runtime.enable_all);
    if (!is_enabled(opt_in)) return BundleEditOutcome{false, std::string(describe(opt_in)), {}};

    Result<BundleEditOutcome> outcome = invalid("runtime.mode `" + config.runtime.mode + "` is not hook or mounts");
    if (config.runtime.mode == "hook") outcome = add_hook(*spec, opt_in, config, config_path);
    if (config.runtime.mode == "mounts") outcome = add_mounts(*spec, opt_in, config);
    if (!outcome) return outcome;
    outcome->opted_in = true;
    outcome->spec_has_time_namespace = spec_requests_time_namespace(*spec);
    if (sysinfo.wanted && config.sysinfo)
        if (auto r = add_sysinfo(*spec, config, sysinfo, *outcome); !r) return r.error();
    if (!outcome->changed) return outcome;

    if (auto written = replace_file(spec_file, dump_spec(*spec)); !written) return written.error();
    return outcome;
}

}  // namespace procview::shim
