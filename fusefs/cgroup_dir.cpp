#include "fusefs/cgroup_dir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "core/cgroup_file_table.hpp"
#include "platform/fs.hpp"

namespace procview {

Result<std::shared_ptr<CgroupDir>> CgroupDir::open(const Hierarchy& hierarchy, std::string_view path) {
    std::string_view rel = path;
    // A path outside the daemon's cgroup namespace shows up as "/../…": not ours to read.
    if (rel.find("/..") != std::string_view::npos || rel.find("../") != std::string_view::npos)
        return make_error(EACCES, "cgroup path `" + std::string(path) + "` is outside this cgroup namespace");
    if (!hierarchy.mount_root.empty()) {
        if (rel.substr(0, hierarchy.mount_root.size()) != hierarchy.mount_root)
            return make_error(ENOENT, "cgroup `" + std::string(path) + "` is not below the mount's root `" + hierarchy.mount_root + "`");
        rel.remove_prefix(hierarchy.mount_root.size());
    }
    while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
    while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);

    auto dir = std::make_shared<CgroupDir>();
    dir->version_ = hierarchy.version;
    dir->path_ = "/" + std::string(rel);
    dir->relative_ = std::string(rel);
    dir->root_fd_ = hierarchy.root_fd.get();
    dir->changes_ = hierarchy.changes;
    std::string current(rel);
    while (!current.empty()) {
        auto fd = open_directory(dir->root_fd_, current);
        if (!fd) return fd.error().context("cgroup " + hierarchy.mount_point + dir->path_);
        dir->dirs_.push_back(std::move(*fd));
        auto slash = current.rfind('/');
        current.resize(slash == std::string::npos ? 0 : slash);
    }
    return dir;
}

int CgroupDir::dir_fd(std::size_t depth) const {
    return depth < dirs_.size() ? dirs_[depth].get() : root_fd_;
}

Result<CgroupDir::OpenFile*> CgroupDir::open_file(std::string_view name, std::size_t depth) {
    for (auto& f : files_)
        if (f.depth == depth && f.name == name) return &f;
    auto fd = open_at(dir_fd(depth), std::string(name), O_RDONLY);
    if (!fd) return fd.error();
    files_.push_back(OpenFile{depth, std::string(name), std::move(*fd), false, 0, {}});
    return &files_.back();
}

Result<void> CgroupDir::read(std::string_view name, std::string& out, std::size_t depth) {
    auto file = open_file(name, depth);
    if (!file) return file.error();
    OpenFile& f = **file;
    // The generation is taken before the read: a write landing after it
    // bumps the next refresh's generation, so what this read saw is never
    // kept past it. Draining the queue is the caller's (once per view).
    uint64_t generation = 0;
    if (changes_ && ChangeWatch::is_written_only(name)) {
        generation = changes_->current();
        if (f.cached_at == generation) {
            out = f.cached;
            return {};
        }
        if (!f.watched) f.watched = changes_->watch(f.fd.get());
    }
    // Task lists are the multi-record cgroup files; everything else is one record.
    bool task_list = cgroup_file_kind(name) == CgroupFileKind::task_list;
    auto r = pread_whole(f.fd.get(), out, task_list ? ReadEnd::at_zero : ReadEnd::short_read);
    if (!r) {
        // Drop the fd: the next read reopens (or fails cleanly if the cgroup is gone).
        for (auto it = files_.begin(); it != files_.end(); ++it)
            if (it->depth == depth && it->name == name) { files_.erase(it); break; }
        return make_error(r.error().errnum, "read `" + std::string(name) + "` of " + path_);
    }
    if (f.watched && generation != 0) {
        f.cached = out;
        f.cached_at = generation;
    }
    return {};
}

bool CgroupDir::exists() const {
    return relative_.empty() || ::faccessat(root_fd_, relative_.c_str(), F_OK, 0) == 0;
}

bool CgroupDir::has(std::string_view name, std::size_t depth) {
    return ::faccessat(dir_fd(depth), std::string(name).c_str(), F_OK, 0) == 0;
}

}  // namespace procview
