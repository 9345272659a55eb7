// Where the cgroup hierarchies are, and held directory fds on their roots.
//
// Discovered once at start-up from /proc/self/mountinfo (or, for tests, from a
// directory laid out like /sys/fs/cgroup: a v2 root if it holds
// cgroup.controllers, else one sub-directory per v1 controller, with an
// optional `unified` v2 sub-directory for hybrid hosts).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cgroup_files.hpp"
#include "core/result.hpp"
#include "fusefs/change_watch.hpp"
#include "platform/unique_fd.hpp"

namespace procview {

// One line of /proc/self/mountinfo that mounts a cgroup filesystem.
struct CgroupMount {
    std::string mount_point;
    std::string root;                      // the mount's root inside the hierarchy (usually "/")
    CgroupVersion version = CgroupVersion::v2;
    std::vector<std::string> controllers;  // v1 only: from the super options (cpu, cpuacct, name=systemd…)
};
// Pure: parses mountinfo text, keeping cgroup and cgroup2 mounts.
Result<std::vector<CgroupMount>> parse_cgroup_mounts(std::string_view mountinfo);

struct Hierarchy {
    CgroupVersion version = CgroupVersion::v2;
    std::string mount_point;
    std::string mount_root;  // strip this prefix from /proc/<pid>/cgroup paths
    UniqueFd root_fd;        // O_PATH directory fd of the mount point
    std::shared_ptr<ChangeWatch> changes;  // the layout's, shared by all hierarchies; may be null
};

class CgroupLayout {
public:
    // The v1 controllers procview reads.
    static constexpr std::string_view kControllers[] = {"memory", "cpu", "cpuacct", "cpuset", "blkio", "pids"};

    static Result<CgroupLayout> discover(std::string_view mountinfo_text);
    static Result<CgroupLayout> from_directory(const std::string& dir);

    // The hierarchy that serves `controller` for this host: the v1 one when
    // mounted, else the unified hierarchy when it has the controller enabled
    // (pure v2). nullptr when nobody provides it.
    [[nodiscard]] const Hierarchy* for_controller(std::string_view controller) const;
    [[nodiscard]] const Hierarchy* unified() const { return unified_ ? &*unified_ : nullptr; }
    [[nodiscard]] bool pure_v2() const { return v1_.empty() && unified_.has_value(); }
    [[nodiscard]] std::string describe() const;
    // Writes to limit files of every hierarchy (one inotify fd, so a view
    // drains one queue); nullptr when inotify is unavailable.
    [[nodiscard]] const std::shared_ptr<ChangeWatch>& changes() const { return changes_; }

private:
    CgroupLayout() : changes_(ChangeWatch::create()) {}

    std::shared_ptr<ChangeWatch> changes_;
    std::optional<Hierarchy> unified_;
    std::map<std::string, std::shared_ptr<Hierarchy>, std::less<>> v1_;  // controller → hierarchy (co-mounted share one)
};

}  // namespace procview
