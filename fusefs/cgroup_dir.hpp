// One cgroup in one hierarchy, with its ancestors, read through held fds.
//
// Cgroup files are opened with openat on held directory fds (never by
// concatenated path), and kept open: cgroupfs regenerates a file's content on
// every read at offset 0, so the hot path is a single pread per file. Limit
// files, which change only when written, are kept between reads for as long
// as the hierarchy's ChangeWatch has seen no write (see change_watch.hpp): as
// of its last refresh(), which the caller makes before a batch of reads.
// Not thread-safe: the owning Container serialises access.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/cgroup_files.hpp"
#include "core/result.hpp"
#include "fusefs/cgroup_layout.hpp"
#include "fusefs/change_watch.hpp"
#include "platform/unique_fd.hpp"

namespace procview {

class CgroupDir {
public:
    // `path` as printed in /proc/<pid>/cgroup ("/kubepods/pod1/ctr1").
    static Result<std::shared_ptr<CgroupDir>> open(const Hierarchy& hierarchy, std::string_view path);

    // Reads `name` in the cgroup (depth 0) or its depth-th ancestor into `out`.
    // ENODEV/ENOENT mean the cgroup is gone.
    Result<void> read(std::string_view name, std::string& out, std::size_t depth = 0);
    // Whether the file exists (a controller may not be enabled on v2).
    bool has(std::string_view name, std::size_t depth = 0);
    // Whether the cgroup directory is still there (a missing file is not a removed cgroup).
    [[nodiscard]] bool exists() const;

    // The cgroup plus its ancestors below the hierarchy root.
    [[nodiscard]] std::size_t levels() const { return dirs_.size(); }
    [[nodiscard]] bool is_root() const { return dirs_.empty(); }
    [[nodiscard]] CgroupVersion version() const { return version_; }
    [[nodiscard]] const std::string& path() const { return path_; }
    // The held directory fd of the cgroup (depth 0) or an ancestor (< levels()).
    [[nodiscard]] int directory_fd(std::size_t depth) const { return dir_fd(depth); }

private:
    struct OpenFile {
        std::size_t depth;
        std::string name;
        UniqueFd fd;
        bool watched = false;      // its writes reach changes_
        uint64_t cached_at = 0;    // the ChangeWatch generation `cached` was read at; 0 = none
        std::string cached;
    };
    int dir_fd(std::size_t depth) const;
    Result<OpenFile*> open_file(std::string_view name, std::size_t depth);

    CgroupVersion version_ = CgroupVersion::v2;
    std::string path_;
    std::string relative_;           // path_ without the leading '/', "" for the root
    int root_fd_ = -1;               // the hierarchy's root (owned by the layout)
    std::vector<UniqueFd> dirs_;     // [0] the cgroup, [1] its parent, … (root excluded)
    std::vector<OpenFile> files_;
    std::shared_ptr<ChangeWatch> changes_;
};

}  // namespace procview
