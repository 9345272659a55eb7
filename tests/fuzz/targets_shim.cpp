// Fuzz targets for procview-runtime's inputs: the command line containerd,
// Docker or an admin's tooling hands it, and the bundle's config.json it edits.
#include <algorithm>

#include "core/config.hpp"
#include "fuzz_input.hpp"
#include "fuzz_targets.hpp"
#include "shim/runc_args.hpp"
#include "shim/spec_edit.hpp"

namespace procview::fuzz {

namespace {

bool is_subsequence(const std::vector<std::string>& part, const std::vector<std::string>& whole) {
    std::size_t i = 0;
    for (const auto& w : whole)
        if (i < part.size() && part[i] == w) ++i;
    return i == part.size();
}

}  // namespace

// argv[1..], one argument per NUL-separated part.
int fuzz_shim_args(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    std::vector<std::string> args;
    for (auto& part : split_parts(text, 64))
        if (part) args.emplace_back(*part);
    auto cmd = shim::parse_runc_command_line(args);
    if (!cmd) return 0;
    // Our options are stripped, everything else passes through in order.
    FUZZ_CHECK(cmd->runtime_args.size() <= args.size());
    FUZZ_CHECK(is_subsequence(cmd->runtime_args, args));
    bool ours = std::any_of(args.begin(), args.end(), [](const std::string& a) {
        return a.rfind("--procview-config", 0) == 0 || a == "--procview-enable";
    });
    if (!ours) FUZZ_CHECK(cmd->runtime_args == args);
    if (cmd->subcommand_index) {
        FUZZ_CHECK(*cmd->subcommand_index < cmd->runtime_args.size());
        FUZZ_CHECK(cmd->runtime_args[*cmd->subcommand_index] == cmd->subcommand);
    }
    std::string bundle = shim::bundle_dir(*cmd, "/run/containerd/task");
    FUZZ_CHECK(!bundle.empty() && bundle.front() == '/');
    std::string spec = shim::spec_path(*cmd, "/run/containerd/task");
    FUZZ_CHECK(!spec.empty() && spec.front() == '/');
    return 0;
}

// config.json through the whole edit: opt-in, the hook (mode "hook") or the
// bind mounts (mode "mounts"), and back to text that parses again. Flags:
// bit 0 enable_all, bit 1 mounts mode.
int fuzz_shim_spec(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    uint8_t flags = take_flags(text);
    auto spec = shim::parse_spec(text);
    if (!spec) return 0;
    auto decision = shim::decide_opt_in(*spec, flags & 1);
    (void)shim::describe(decision);
    if (!shim::is_enabled(decision)) return 0;
    (void)shim::mark_opted_in(*spec);
    FUZZ_CHECK(shim::spec_annotation(*spec, procview::kEnabledAnnotation) == std::optional<std::string>("true"));
    if (flags & 2) {
        auto selection = shim::select_mounts(shim::spec_annotation(*spec, procview::kFilesAnnotation), HookConfig{}.files,
                                             "/var/lib/procview");
        for (const auto& mount : selection.mounts) {
            FUZZ_CHECK(mount.source.rfind("/var/lib/procview/", 0) == 0);
            FUZZ_CHECK(!mount.destination.empty() && mount.destination.front() == '/');
        }
        auto added = shim::add_procview_mounts(*spec, selection.mounts);
        FUZZ_CHECK(added.size() <= selection.mounts.size());
    } else {
        shim::HookEntry hook{"/usr/local/libexec/procview/procview-hook", "/etc/procview/procview.json"};
        (void)shim::add_procview_hook(*spec, hook);
        FUZZ_CHECK(shim::has_procview_hook(*spec, hook.path));
        FUZZ_CHECK(!shim::add_procview_hook(*spec, hook));  // idempotent
    }
    std::string out = shim::dump_spec(*spec);
    FUZZ_CHECK(shim::parse_spec(out).ok());
    return 0;
}

}  // namespace procview::fuzz
