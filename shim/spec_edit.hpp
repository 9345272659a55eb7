// The one change procview-runtime makes to a bundle's config.json: turn
// procview on for a container that opted in.
//
// Pure: the spec's text and the decision inputs in, the new text out. The
// spec is held as nlohmann::ordered_json, so every field the shim does not
// own (unknown ones included) keeps its value and its place.
//
// Two modes (runtime.mode in the config):
//   hook    append {"path": hook_path, "args": ["procview-hook", "--config", FILE, "createRuntime"], "timeout": 10}
//           to hooks.createRuntime; the hook decides which files to mount.
//   mounts  append read-only bind mounts of procviewfs's files (only those
//           runc accepts under /proc, plus the sysfs CPU entries) to "mounts";
//           used when the caller knows procviewfs is serving.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/catalog.hpp"
#include "core/result.hpp"

namespace procview::shim {

using Spec = nlohmann::ordered_json;

inline constexpr unsigned kHookTimeoutSeconds = 10;

// Not JSON, not an object, or a field the edit touches with the wrong type
// (`hooks` not an object, `hooks.createRuntime` or `mounts` not an array,
// `annotations` not an object) is an error. Annotations that are not strings
// are ignored (runc itself refuses them).
Result<Spec> parse_spec(std::string_view text);
// Compact JSON. Invalid UTF-8 from the input is replaced rather than thrown on.
std::string dump_spec(const Spec& spec);

// The spec's annotation `key` when it is a string.
std::optional<std::string> spec_annotation(const Spec& spec, std::string_view key);

enum class OptIn {
    no,           // not enabled for this runtime and no annotation
    annotation,   // procview.io/enabled: "true"
    runtime,      // runtime.enable_all (pouch's --enableLxcfs for every container)
    opted_out,    // procview.io/enabled: "false" overrides runtime.enable_all
};
// Exactly "true" opts in, as the hook reads it; exactly "false" opts out even
// under enable_all; any other value leaves the runtime's default.
OptIn decide_opt_in(const Spec& spec, bool enable_all);
bool is_enabled(OptIn decision);
std::string_view describe(OptIn decision);

// Sets procview.io/enabled to "true" (the hook acts on that annotation; under
// runtime.enable_all the container may not carry it). Returns whether the spec changed.
bool mark_opted_in(Spec& spec);

struct HookEntry {
    std::string path;         // runtime.hook_path
    std::string config_path;  // passed as --config; "" = the hook's default
};
// The hook object the shim adds.
Spec make_hook(const HookEntry& hook);

// True when a hook in any stage already runs procview-hook: its path equals
// `hook_path`, or has the same file name (installed under another prefix, or
// added by hooks.d).
bool has_procview_hook(const Spec& spec, std::string_view hook_path);

// Appends the hook to hooks.createRuntime unless has_procview_hook. Returns
// whether the spec changed. The spec must have passed parse_spec.
bool add_procview_hook(Spec& spec, const HookEntry& hook);

// One bind mount in mounts mode.
struct BindMount {
    std::string view;         // "meminfo"
    std::string source;       // absolute: MOUNTPOINT/proc/meminfo
    std::string destination;  // "/proc/meminfo"
    friend bool operator==(const BindMount&, const BindMount&) = default;
};
struct MountSelection {
    std::vector<BindMount> mounts;
    std::vector<std::string> notes;  // names left out and why
};
// The mounts for the chosen view names: the procview.io/files annotation when
// set (split_view_names: commas and/or blanks, as the hook reads it), else
// `config_files`. Unknown names and the catalog's views a config.json mount
// cannot deliver (pressure, vmstat: runc's allowlist) are noted and left out;
// cpu_online is dropped when cpu (the directory holding it) is chosen.
// `container_dir` (hook.per_container): a directory whose proc/ files are the
// container's own, MOUNT/containers/self, taken for the proc/ views instead
// of the mountpoint's shared ones; the sys/ CPU entries stay the mountpoint's
// (a per-container directory holds only proc/). Empty: the shared files.
MountSelection select_mounts(const std::optional<std::string>& files_annotation,
                             const std::vector<std::string>& config_files, std::string_view mountpoint,
                             std::string_view container_dir = {});

// MOUNTPOINT/containers/self: procviewfs resolves `self` for whichever
// process follows it. The runtime's process that resolves a config.json bind
// mount's source is the container's init (runc 1.1 `runc init`, crun 1.8's
// child: same pid and start time as the container's pid 1, already in its
// cgroup), so the mount pins that container's own files.
std::string self_container_dir(std::string_view mountpoint);

// Whether the spec makes (or joins) a user namespace. Then runc and crun open
// mount sources from a process outside the container (runc 1.1: a `runc
// init` in the host's pid namespace that exits before the container runs),
// so containers/self would pin that process's files, gone with it.
bool spec_has_user_namespace(const Spec& spec);

// Appends each mount whose destination no mount in the spec covers yet (a
// mount the user or an earlier run put there wins). Options: rbind, ro,
// nosuid, nodev, noexec. Returns the views added.
std::vector<std::string> add_procview_mounts(Spec& spec, const std::vector<BindMount>& mounts);

}  // namespace procview::shim
