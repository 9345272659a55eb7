// The inode table of the served tree.
//
//   /                         dir
//   proc/                     dir: meminfo cpuinfo stat uptime loadavg diskstats swaps vmstat pressure/
//   proc/pressure/            dir: cpu memory io (exist only for readers in a non-root v2 cgroup)
//   sys/devices/system/cpu/   the host's directory, seen through the reader's CPU view
//   containers/               per-container views (cached_views.hpp)
//
// Static nodes are the catalog's (core/catalog.hpp), with its fixed inode
// numbers, which never change (--takeover). Nodes below sys/devices/system/cpu
// are named by their *view* path ("cpu1/topology/core_id"); their inode
// numbers are a hash of the path, so they are the same in every instance of
// the daemon: after a restart the kernel still holds inodes (and open files)
// numbered by the previous instance.
//
// Any reader can look up any name, so a sys_cpu node is remembered (kept for
// find()) only once the caller has seen it exist for a reader (remember()),
// never for a name that does not exist, and at most max_cpu_nodes of them:
// the set is then bounded by the host's sysfs tree and by the cap. Past the
// cap nodes are served without being remembered, and find() recognises
// their inode numbers by walking the host's tree (slow, and only on hosts
// whose CPU directory holds more than max_cpu_nodes entries).
#pragma once

#include <fuse_lowlevel.h>

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/catalog.hpp"
#include "platform/unique_dir.hpp"
#include "fusefs/view_engine.hpp"

namespace procview {

enum class NodeKind { directory, proc_file, pressure_file, sys_cpu };

struct Node;
// Nodes are shared: a node served past the cap lives as long as its users.
using NodeRef = std::shared_ptr<const Node>;

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
    static constexpr fuse_ino_t kCpuDir = kCpuDirIno;

    static constexpr std::size_t kDefaultMaxCpuNodes = 65536;

    // host_cpu_dir: the host's CPU sysfs directory, walked to recognise inode
    // numbers handed out by a previous instance (or past the cap).
    explicit Tree(int host_cpu_dir, std::size_t max_cpu_nodes = kDefaultMaxCpuNodes);
    NodeRef find(fuse_ino_t ino);
    // The child `name` of a static directory; for a child of a sys_cpu
    // directory the remembered node, or a new node that is not remembered
    // (whether it exists for a given reader is decided by the caller, which
    // then calls remember()).
    NodeRef child(const Node& parent, std::string_view name);
    // Remembers a sys_cpu node the caller has seen exist, while fewer than
    // max_cpu_nodes are; returns the node to serve (the one remembered
    // first when two lookups raced). Static nodes are returned as they are.
    NodeRef remember(NodeRef node);
    // Static children of a static directory, in listing order.
    std::vector<NodeRef> static_children(fuse_ino_t parent) const;
    // How many sys_cpu nodes are remembered.
    [[nodiscard]] std::size_t remembered() const;

private:
    NodeRef static_node(fuse_ino_t ino) const;
    // Calls visit(node) for each entry of the host's tree below `dir`
    // (depth-limited) until it returns true; whether it did.
    template <class Visit>
    bool walk_host_tree(const Node& dir, UniqueDir& d, int depth, Visit& visit);
    bool walk_host_tree_from_top(auto visit);

    int host_cpu_dir_;
    std::size_t max_cpu_nodes_;
    std::vector<Node> static_;
    mutable std::shared_mutex mu_;  // guards by_ino_, walked_ and overflowed_
    std::unordered_map<fuse_ino_t, NodeRef> by_ino_;
    bool walked_ = false;
    bool overflowed_ = false;  // remember() refused a node: find() must walk for unknown inodes
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
