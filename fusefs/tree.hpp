// The inode table of the served tree.
//
//   /                         dir
//   proc/                     dir: meminfo cpuinfo stat uptime loadavg diskstats swaps pressure/
//   proc/pressure/            dir: cpu memory io (exist only for readers in a non-root v2 cgroup)
//   sys/devices/system/cpu/   the host's directory, seen through the reader's CPU view
//
// Static nodes have fixed inode numbers. Nodes below sys/devices/system/cpu
// are interned by their *view* path ("cpu1/topology/core_id") on first
// lookup and never freed: the set is bounded by the host's sysfs tree.
// Their inode numbers are a hash of the path, so they are the same in every
// instance of the daemon: after a restart the kernel still holds inodes (and
// open files) numbered by the previous instance.
#pragma once

#include <fuse_lowlevel.h>

#include <deque>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fusefs/view_engine.hpp"

namespace procview {

enum class NodeKind { directory, proc_file, pressure_file, sys_cpu };

struct Node {
    fuse_ino_t ino = 0;
    fuse_ino_t parent = 0;
    std::string name;
    NodeKind kind = NodeKind::directory;
    ProcFile file = ProcFile::meminfo;  // proc_file, pressure_file
    std::string cpu_path;               // sys_cpu: view path below sys/devices/system/cpu ("" = the directory)
};

class Tree {
public:
    static constexpr fuse_ino_t kRoot = FUSE_ROOT_ID;
    static constexpr fuse_ino_t kCpuDir = 6;

    // host_cpu_dir: the host's CPU sysfs directory, walked to recognise inode
    // numbers handed out by a previous instance.
    explicit Tree(int host_cpu_dir);
    const Node* find(fuse_ino_t ino);
    // The child `name` of a static directory, or the interned sys_cpu node
    // for a child of a sys_cpu directory (whether it exists for a given
    // reader is decided by the caller).
    const Node* child(const Node& parent, std::string_view name);
    // Static children of a static directory, in listing order.
    std::vector<const Node*> static_children(fuse_ino_t parent) const;

private:
    const Node* intern_cpu_path(fuse_ino_t parent, const std::string& path, std::string_view name);
    void intern_host_tree(const Node& dir, int dir_fd, int depth);

    int host_cpu_dir_;
    std::vector<Node> static_;
    mutable std::shared_mutex mu_;  // guards dynamic_, by_ino_ and walked_
    std::deque<Node> dynamic_;
    std::unordered_map<fuse_ino_t, const Node*> by_ino_;
    bool walked_ = false;
};

// Maps a view path below sys/devices/system/cpu to the host's path for a
// reader whose CPU view is `view` (nullptr: host reader, identity).
// "cpuK/…" becomes "cpu<view.host_cpus[K]>/…"; a K outside the view is
// ENOENT; "" becomes ".". Pure.
Result<std::string> host_cpu_path(std::string_view view_path, const CpuView* view);
// Whether a view path names one of the rendered CPU lists (online, present, possible, offline).
bool is_rendered_cpu_list(std::string_view view_path);
// The stable inode number of a view path below sys/devices/system/cpu.
fuse_ino_t cpu_path_ino(std::string_view view_path);
// If `name` is "cpuN" (N decimal), N.
std::optional<unsigned> cpu_index(std::string_view name);

}  // namespace procview
