// Which of procviewfs's files go where in a container. Pure: annotations and
// configuration in, a list of mounts out; nothing here touches the system.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog.hpp"
#include "hook/oci_state.hpp"

namespace procview::hook {

// The annotations, the views and what each target must be (TargetFs,
// EntryKind) are the catalog's (core/catalog.hpp).

struct PlannedMount {
    std::string view;    // the name from the configuration: "meminfo", "pressure", "cpu"…
    std::string source;  // relative to procviewfs's mountpoint: "proc/meminfo"
    std::string target;  // relative to the container's rootfs: "proc/meminfo"
    EntryKind kind = EntryKind::file;
    TargetFs fs = TargetFs::procfs;
    friend bool operator==(const PlannedMount&, const PlannedMount&) = default;
};

struct MountPlan {
    std::vector<PlannedMount> mounts;  // in mount order
    // Names left out and why, one line each ("pressure: the host is not pure
    // cgroup v2"); for the log, never fatal.
    std::vector<std::string> notes;
};

// The container asked for procview: `procview.io/enabled` is exactly "true".
// The state's annotations are consulted first, then config.json's.
bool opted_in(const Annotations& state, const Annotations& config);

// The annotation's value (state first, then config.json), nullopt when unset.
std::optional<std::string> annotation(const Annotations& state, const Annotations& config, std::string_view key);

struct HostFacts {
    // /sys/fs/cgroup/cgroup.controllers exists: procviewfs serves
    // proc/pressure/* only for readers in a pure cgroup v2 hierarchy.
    bool pure_cgroup_v2 = false;
};

// The view names to mount: the `procview.io/files` annotation when given
// (split_view_names: commas and/or blanks; an empty value mounts nothing),
// else the configuration's list. Unknown names are noted and left out; duplicates
// collapse; "cpu_online" is dropped when "cpu" (the whole directory, which
// holds `online`) is chosen too.
MountPlan plan_mounts(const std::optional<std::string>& files_annotation, const std::vector<std::string>& config_files,
                      const HostFacts& host);

// Points the plan's proc/ sources at the container's own files,
// containers/<container_name>/proc/… (fusefs/cached_views.hpp), below
// `other_mountpoint` (an absolute source) when given, else below procviewfs's
// mountpoint; sys/ sources stay the shared per-reader ones.
void use_container_files(MountPlan& plan, std::string_view container_name, std::string_view other_mountpoint = {});

// Why an opened target must not be mounted over, or nullopt when it is
// what the plan expects: a regular file (or a directory) on procfs (or
// sysfs). `mode` is st_mode from fstat, `f_type` from fstatfs.
std::optional<std::string> target_mismatch(unsigned mode, long f_type, EntryKind kind, TargetFs fs);

// True for the catalog's view names (as core's is_known_view_name).
bool is_view_name(std::string_view name);

}  // namespace procview::hook
