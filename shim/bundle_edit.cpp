#include "shim/bundle_edit.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "platform/fs.hpp"
#include "platform/health.hpp"
#include "platform/unique_fd.hpp"
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

Result<BundleEditOutcome> add_mounts(Spec& spec, OptIn opt_in, const Config& config) {
    auto serving = check_procview_serving(config.mountpoint, std::chrono::milliseconds(config.hook.health_timeout_ms));
    if (!serving) return serving.error().context("procviewfs at `" + config.mountpoint + "`");
    auto selection = select_mounts(spec_annotation(spec, kFilesAnnotation), config.hook.files, config.mountpoint);
    auto added = add_procview_mounts(spec, selection.mounts);
    BundleEditOutcome out;
    out.changed = !added.empty();
    out.summary = added.empty() ? "every procview mount is already in the spec"
                                : "added bind mounts of " + join(added) + " (" + std::string(describe(opt_in)) + ")";
    out.notes = std::move(selection.notes);
    return out;
}

}  // namespace

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
                                           const std::string& config_path) {
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
    if (!outcome->changed) return outcome;

    if (auto written = replace_file(spec_file, dump_spec(*spec)); !written) return written.error();
    return outcome;
}

}  // namespace procview::shim
