#include "fusefs/tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <mutex>

#include "core/text.hpp"

namespace procview {

Tree::Tree(int host_cpu_dir, std::size_t max_cpu_nodes) : host_cpu_dir_(host_cpu_dir), max_cpu_nodes_(max_cpu_nodes) {
    auto dir = [&](fuse_ino_t ino, fuse_ino_t parent, std::string name) {
        static_.push_back(Node{ino, parent, std::move(name), NodeKind::directory, ProcFile::meminfo, {}});
    };
    auto file = [&](fuse_ino_t ino, fuse_ino_t parent, std::string name, NodeKind kind, ProcFile f) {
        static_.push_back(Node{ino, parent, std::move(name), kind, f, {}});
    };
    dir(kRoot, kRoot, "");
    dir(2, kRoot, "proc");
    dir(3, kRoot, "sys");
    dir(4, 3, "devices");
    dir(5, 4, "system");
    static_.push_back(Node{kCpuDir, 5, "cpu", NodeKind::sys_cpu, ProcFile::meminfo, ""});
    dir(7, 2, "pressure");
    dir(8, kRoot, "containers");  // served by CachedViews (cached_views.hpp)
    file(10, 2, "meminfo", NodeKind::proc_file, ProcFile::meminfo);
    file(11, 2, "cpuinfo", NodeKind::proc_file, ProcFile::cpuinfo);
    file(12, 2, "stat", NodeKind::proc_file, ProcFile::stat);
    file(13, 2, "uptime", NodeKind::proc_file, ProcFile::uptime);
    file(14, 2, "loadavg", NodeKind::proc_file, ProcFile::loadavg);
    file(15, 2, "diskstats", NodeKind::proc_file, ProcFile::diskstats);
    file(16, 2, "swaps", NodeKind::proc_file, ProcFile::swaps);
    file(17, 2, "vmstat", NodeKind::proc_file, ProcFile::vmstat);
    file(20, 7, "cpu", NodeKind::pressure_file, ProcFile::pressure_cpu);
    file(21, 7, "memory", NodeKind::pressure_file, ProcFile::pressure_memory);
    file(22, 7, "io", NodeKind::pressure_file, ProcFile::pressure_io);
}

fuse_ino_t cpu_path_ino(std::string_view view_path) {
    uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (unsigned char c : view_path) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return (1ULL << 62) | (h & ((1ULL << 62) - 1));  // far above the static numbers
}

NodeRef Tree::static_node(fuse_ino_t ino) const {
    for (const auto& n : static_)
        if (n.ino == ino) return NodeRef(NodeRef(), &n);  // owned by the tree, which outlives every request
    return nullptr;
}

NodeRef Tree::find(fuse_ino_t ino) {
    if (auto n = static_node(ino)) return n;
    if (ino < (1ULL << 62)) return nullptr;
    bool walked, overflowed;
    {
        std::shared_lock lock(mu_);
        if (auto it = by_ino_.find(ino); it != by_ino_.end()) return it->second;
        walked = walked_;
        overflowed = overflowed_;
    }
    if (!walked) {
        // An inode this instance never handed out: a previous instance did.
        // Remember the host's whole tree once (up to the cap), then look again.
        walk_host_tree_from_top([this](const NodeRef& n) { remember(n); return false; });
        std::unique_lock lock(mu_);
        walked_ = true;
        if (auto it = by_ino_.find(ino); it != by_ino_.end()) return it->second;
        overflowed = overflowed_;
    }
    if (!overflowed) return nullptr;
    // Past the cap a node may exist without being remembered: search for it.
    NodeRef found;
    walk_host_tree_from_top([&](const NodeRef& n) {
        if (n->ino == ino) found = n;
        return found != nullptr;
    });
    return found;
}

bool Tree::walk_host_tree_from_top(auto visit) {
    int fd = ::openat(host_cpu_dir_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    const Node* top = static_node(kCpuDir).get();
    return walk_host_tree(*top, fd, 0, visit);
}

template <class Visit>
bool Tree::walk_host_tree(const Node& dir, int dir_fd, int depth, Visit& visit) {
    DIR* d = ::fdopendir(dir_fd);
    if (!d) {
        ::close(dir_fd);
        return false;
    }
    bool done = false;
    while (auto* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        NodeRef node = child(dir, name);
        if (!node) continue;
        if ((done = visit(node))) break;
        if (e->d_type == DT_DIR && depth < 6) {
            int sub = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0 && (done = walk_host_tree(*node, sub, depth + 1, visit))) break;
        }
    }
    ::closedir(d);
    return done;
}

NodeRef Tree::remember(NodeRef node) {
    if (!node || node->kind != NodeKind::sys_cpu || node->ino == kCpuDir) return node;
    std::unique_lock lock(mu_);
    if (auto it = by_ino_.find(node->ino); it != by_ino_.end()) {
        // A 62-bit hash collision between two sysfs paths: never seen; refuse
        // the second path rather than serve the wrong file.
        return it->second->cpu_path == node->cpu_path ? it->second : nullptr;
    }
    if (by_ino_.size() >= max_cpu_nodes_) {
        overflowed_ = true;
        return node;
    }
    by_ino_.emplace(node->ino, node);
    return node;
}

NodeRef Tree::child(const Node& parent, std::string_view name) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) return nullptr;
    if (parent.kind == NodeKind::sys_cpu) {
        std::string path = parent.cpu_path.empty() ? std::string(name) : parent.cpu_path + "/" + std::string(name);
        fuse_ino_t ino = cpu_path_ino(path);
        {
            std::shared_lock lock(mu_);
            if (auto it = by_ino_.find(ino); it != by_ino_.end())
                return it->second->cpu_path == path ? it->second : nullptr;
        }
        return std::make_shared<const Node>(
            Node{ino, parent.ino, std::string(name), NodeKind::sys_cpu, ProcFile::meminfo, std::move(path)});
    }
    if (parent.kind != NodeKind::directory) return nullptr;
    for (const auto& n : static_)
        if (n.parent == parent.ino && n.ino != kRoot && n.name == name) return NodeRef(NodeRef(), &n);
    return nullptr;
}

std::vector<NodeRef> Tree::static_children(fuse_ino_t parent) const {
    std::vector<NodeRef> out;
    for (const auto& n : static_)
        if (n.parent == parent && n.ino != kRoot) out.push_back(NodeRef(NodeRef(), &n));
    return out;
}

std::size_t Tree::remembered() const {
    std::shared_lock lock(mu_);
    return by_ino_.size();
}

std::optional<unsigned> cpu_index(std::string_view name) {
    if (name.size() < 4 || name.substr(0, 3) != "cpu") return std::nullopt;
    auto digits = name.substr(3);
    if (digits.size() > 1 && digits[0] == '0') return std::nullopt;  // "cpu01" is not a CPU
    auto n = parse_u64(digits);
    if (!n || *n > 65535) return std::nullopt;
    return static_cast<unsigned>(*n);
}

Result<std::string> host_cpu_path(std::string_view view_path, const CpuView* view) {
    if (view_path.empty()) return std::string(".");
    auto slash = view_path.find('/');
    std::string_view first = view_path.substr(0, slash);
    std::string_view rest = slash == std::string_view::npos ? std::string_view() : view_path.substr(slash);
    if (!view) return std::string(view_path);
    if (auto k = cpu_index(first)) {
        if (*k >= view->count()) return make_error(ENOENT, "cpu" + std::to_string(*k) + " is not in this view");
        return "cpu" + std::to_string(view->host_cpus.cpus()[*k]) + std::string(rest);
    }
    return std::string(view_path);
}

bool is_rendered_cpu_list(std::string_view view_path) {
    return view_path == "online" || view_path == "present" || view_path == "possible" || view_path == "offline";
}

}  // namespace procview
