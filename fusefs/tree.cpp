#include "fusefs/tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <mutex>

#include "core/text.hpp"

namespace procview {

namespace {

std::string_view parent_path(std::string_view path) {
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view base_name(std::string_view path) {
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The fixed inode number of a directory of the catalog.
fuse_ino_t dir_ino(std::string_view path) {
    if (path == kCpuDirPath) return kCpuDirIno;
    for (const auto& d : kTreeDirs)
        if (d.path == path) return d.ino;
    return 0;
}

}  // namespace

// The static nodes are the catalog's (core/catalog.hpp): its directories, then
// every view path with a fixed number, in the catalog's order.
Tree::Tree(int host_cpu_dir, std::size_t max_cpu_nodes) : host_cpu_dir_(host_cpu_dir), max_cpu_nodes_(max_cpu_nodes) {
    for (const auto& d : kTreeDirs)
        static_.push_back(Node{d.ino, d.path.empty() ? kRoot : dir_ino(parent_path(d.path)), std::string(base_name(d.path)),
                               NodeKind::directory, ProcFile::meminfo, {}});
    for (const auto& view : kViews) {
        for (const auto& p : view.paths) {
            if (p.ino >= kCpuEntryInoBase) continue;  // below the cpu directory: served from the host's tree
            NodeKind kind = view.kind == EntryKind::directory ? NodeKind::sys_cpu
                            : view.v2_only                    ? NodeKind::pressure_file
                                                              : NodeKind::proc_file;
            static_.push_back(Node{p.ino, dir_ino(parent_path(p.path)), std::string(base_name(p.path)), kind, p.file, {}});
        }
    }
}

fuse_ino_t cpu_path_ino(std::string_view view_path) { return cpu_entry_ino(view_path); }

NodeRef Tree::static_node(fuse_ino_t ino) const {
    for (const auto& n : static_)
        if (n.ino == ino) return NodeRef(NodeRef(), &n);  // owned by the tree, which outlives every request
    return nullptr;
}

NodeRef Tree::find(fuse_ino_t ino) {
    if (auto n = static_node(ino)) return n;
    if (ino < kCpuEntryInoBase) return nullptr;
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
    UniqueDir top_dir = UniqueDir::open_at(host_cpu_dir_, ".");
    if (!top_dir) return false;
    const Node* top = static_node(kCpuDir).get();
    return walk_host_tree(*top, top_dir, 0, visit);
}

template <class Visit>
bool Tree::walk_host_tree(const Node& dir, UniqueDir& d, int depth, Visit& visit) {
    bool done = false;
    while (auto* e = d.next()) {
        std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        NodeRef node = child(dir, name);
        if (!node) continue;
        if ((done = visit(node))) break;
        if (e->d_type == DT_DIR && depth < 6) {
            UniqueDir sub = UniqueDir::open_at(d.fd(), e->d_name, O_NOFOLLOW);
            if (sub && (done = walk_host_tree(*node, sub, depth + 1, visit))) break;
        }
    }
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
