#include "fusefs/filesystem.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "platform/fs.hpp"
#include "platform/unique_dir.hpp"

namespace procview {
namespace {

// Dentries and attributes of files every reader has are cached by the kernel
// for long; anything whose existence depends on the reader (pressure files,
// cpuN) is looked up each time, because one dentry cache serves every
// container that bind-mounts the same file.
constexpr double kStableTimeout = 3600.0;
constexpr double kPerReaderTimeout = 0.0;
constexpr double kSysfsAttrTimeout = 1.0;

Filesystem& fs_of(fuse_req_t req) { return *static_cast<Filesystem*>(fuse_req_userdata(req)); }


int errnum_of(const Error& e) { return e.errnum > 0 ? e.errnum : EIO; }

// Calls then(container) for the request's reader: at once when its container
// is known, else on the setup worker once it is found (see setup_worker.hpp).
// `then` replies, and holds copies of whatever it needs of the request.
// When the setup worker's queues are full (see setup_worker.hpp) the request
// gets EAGAIN: an error the reader can retry, never another container's view.
template <class Then>
void with_reader(Filesystem& fs, fuse_req_t req, Then then) {
    pid_t pid = fuse_req_ctx(req)->pid;
    uint64_t pidns = 0;
    if (auto cached = fs.registry.resolve_cached(pid, &pidns)) return then(fs.placed_or_host(pid, std::move(*cached)));
    if (fs.setup.run([&fs, pid, then = std::move(then)]() mutable { then(fs.reader(pid)); }, pidns)) return;
    int64_t now = monotonic_ms();
    int64_t last = fs.last_setup_warning_ms.load(std::memory_order_relaxed);
    if (now - last > 10'000 && fs.last_setup_warning_ms.compare_exchange_strong(last, now))
        fs.log->warn("reader {} (pid namespace {}): too many first reads waiting for their container; answering EAGAIN",
                     pid, pidns);
    fuse_reply_err(req, EAGAIN);
}

// Whether `ino` is served by the per-container views (cached_views.hpp).
bool per_container(const Filesystem& fs, fuse_ino_t ino) {
    return fs.containers && (is_container_ino(ino) || ino == CachedViews::kTopIno);
}

// ---- handlers: each replies exactly once ------------------------------------

void op_init(void*, fuse_conn_info* conn) {
    // Nothing is written and nothing is cached here.
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
    // Per-container files are cached (cached_views.hpp): a read after their
    // attributes expired drops the pages when the mtime moved.
    if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA) conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
    // RELEASE is a background request, and the kernel lets only
    // max_background of those (default 12) into the queue at once, each
    // behind every foreground request already queued. With more than ~48
    // readers opening and closing in a loop, closes then arrived slower than
    // they were made: open files (and their rendered text) piled up in this
    // process and unsent RELEASEs in the kernel without bound. A release
    // costs next to nothing, so let them all through.
    conn->max_background = 4096;
    conn->congestion_threshold = 3072;  // only affects writeback, which a read-only fs has none of
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    auto& fs = fs_of(req);
    if (per_container(fs, parent)) return fs.containers->lookup(req, parent, name);
    if (fs.containers_only && std::string_view(name) != "containers") return (void)fuse_reply_err(req, ENOENT);
    NodeRef dir = fs.tree.find(parent);
    NodeRef found = dir ? fs.tree.child(*dir, name) : nullptr;
    if (!found) return (void)fuse_reply_err(req, ENOENT);
    with_reader(fs, req, [&fs, req, found](const std::shared_ptr<Container>& container) {
        auto st = fs.attributes(*found, container.get());
        if (!st) return (void)fuse_reply_err(req, errnum_of(st.error()));
        // Only now that it exists for this reader (see tree.hpp).
        NodeRef node = fs.tree.remember(found);
        if (!node) return (void)fuse_reply_err(req, ENOENT);
        fuse_entry_param e{};
        e.ino = node->ino;
        e.attr = *st;
        e.entry_timeout = fs.entry_timeout(*node);
        e.attr_timeout = node->kind == NodeKind::sys_cpu ? kSysfsAttrTimeout : e.entry_timeout;
        fuse_reply_entry(req, &e);
    });
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    auto& fs = fs_of(req);
    if (fs.containers && is_container_ino(ino)) return fs.containers->getattr(req, ino);
    NodeRef node = fs.tree.find(ino);
    if (!node) return (void)fuse_reply_err(req, ENOENT);
    with_reader(fs, req, [&fs, req, node](const std::shared_ptr<Container>& container) {
        auto st = fs.attributes(*node, container.get());
        if (!st) return (void)fuse_reply_err(req, errnum_of(st.error()));
        fuse_reply_attr(req, &*st, node->kind == NodeKind::sys_cpu ? kSysfsAttrTimeout : fs.entry_timeout(*node));
    });
}

void op_readlink(fuse_req_t req, fuse_ino_t ino) {
    auto& fs = fs_of(req);
    if (fs.containers && is_container_ino(ino)) return fs.containers->readlink(req, ino);
    NodeRef node = fs.tree.find(ino);
    if (!node || node->kind != NodeKind::sys_cpu) return (void)fuse_reply_err(req, EINVAL);
    with_reader(fs, req, [&fs, req, node](const std::shared_ptr<Container>& container) {
        auto path = fs.host_path(*node, container.get());
        if (!path) return (void)fuse_reply_err(req, errnum_of(path.error()));
        auto target = read_link_at(fs.host.sys_cpu_fd(), *path);
        if (!target) return (void)fuse_reply_err(req, errnum_of(target.error()));
        fuse_reply_readlink(req, target->c_str());
    });
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    auto& fs = fs_of(req);
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & (O_TRUNC | O_CREAT)))
        return (void)fuse_reply_err(req, EROFS);
    if (fs.containers && is_container_ino(ino)) {
        // Once: the kernel then stops sending OPEN (and RELEASE) for every file of this mount.
        if (fs.containers_only) return (void)fuse_reply_err(req, ENOSYS);
        return fs.containers->open(req, ino, fi);
    }
    if (fs.containers_only) return (void)fuse_reply_err(req, ENOENT);
    NodeRef node = fs.tree.find(ino);
    if (!node || node->kind == NodeKind::directory) return (void)fuse_reply_err(req, node ? EISDIR : ENOENT);
    with_reader(fs, req, [&fs, req, node, info = *fi](std::shared_ptr<Container> container) mutable {
        auto file = fs.open_file(node, std::move(container));
        if (!file) return (void)fuse_reply_err(req, view_errno(file.error()));
        // procfs-like: sizes are unknown until rendered, so no page cache.
        info.direct_io = 1;
        info.keep_cache = 0;
        info.fh = fs.files.add(std::move(*file));
        if (fuse_reply_open(req, &info) != 0) fs.files.remove(info.fh);  // the open was interrupted
    });
}

void reply_read(fuse_req_t req, Filesystem::OpenFile& file, size_t size, off_t off) {
    auto& fs = fs_of(req);
    std::lock_guard lock(file.mu);
    if (!file.rendered || (off == 0 && file.consumed) || (file.freed && static_cast<size_t>(off) < file.length)) {
        auto content = fs.render(file);
        if (!content) return (void)fuse_reply_err(req, view_errno(content.error()));
        file.content = std::move(*content);
        file.length = file.content.size();
        file.rendered = true;
        file.freed = false;
    }
    file.consumed = true;
    auto length = static_cast<off_t>(file.length);
    size_t n = off >= length ? 0 : std::min(size, static_cast<size_t>(length - off));
    fuse_reply_buf(req, n ? file.content.data() + off : nullptr, n);
    // Read to its end: an fd held open must not keep its text (see OpenFile).
    if (off + static_cast<off_t>(n) >= length && !file.freed) {
        std::string().swap(file.content);
        file.freed = true;
    }
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
    auto& fs = fs_of(req);
    // Per-container files are page-cached by design: their READs fill the cache.
    if (fs.containers && is_container_ino(ino)) return fs.containers->read(req, ino, size, off);
    // A READ without a lock owner comes from the page cache, not from read(2):
    // since Linux 6.5 sendfile/splice of a direct-io FUSE file goes through it
    // (filemap_splice_read), where one container's page and size would be
    // served to the next. Refuse it; sendfile fails and its callers (busybox
    // cat, coreutils) fall back to read(2), which is direct and per reader.
    if (fi->lock_owner == 0) return (void)fuse_reply_err(req, EIO);
    if (auto file = fs.files.find(fi->fh)) return reply_read(req, *file, size, off);
    // Opened under a previous instance of the daemon: take it over.
    NodeRef node = fs.tree.find(ino);
    if (!node || node->kind == NodeKind::directory) return (void)fuse_reply_err(req, EBADF);
    with_reader(fs, req, [&fs, req, node, fh = fi->fh, size, off](std::shared_ptr<Container> container) {
        auto fresh = fs.open_file(node, std::move(container), true);
        if (!fresh) return (void)fuse_reply_err(req, view_errno(fresh.error()));
        fs.files.adopt(fh, std::move(*fresh));
        auto file = fs.files.find(fh);
        if (!file) return (void)fuse_reply_err(req, EBADF);  // released meanwhile
        reply_read(req, *file, size, off);
    });
}

void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    fs_of(req).files.remove(fi->fh);
    fuse_reply_err(req, 0);
}

void opendir_per_container(fuse_req_t req, fuse_ino_t ino, fuse_file_info info) {
    auto& fs = fs_of(req);
    auto charge = fs.charge(nullptr, false);  // no reader lookup: charged to the host's readers
    if (!charge) return (void)fuse_reply_err(req, errnum_of(charge.error()));
    auto dir = fs.list_per_container(ino);
    if (!dir) return (void)fuse_reply_err(req, errnum_of(dir.error()));
    std::unique_ptr<Filesystem::OpenDir> open(*dir);
    open->charge = std::move(*charge);
    info.fh = fs.dirs.add(std::move(open));
    if (fuse_reply_open(req, &info) != 0) fs.dirs.remove(info.fh);
}

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    auto& fs = fs_of(req);
    if (per_container(fs, ino)) return opendir_per_container(req, ino, *fi);
    NodeRef node = fs.tree.find(ino);
    if (!node) return (void)fuse_reply_err(req, ENOENT);
    if (node->kind != NodeKind::directory && node->kind != NodeKind::sys_cpu) return (void)fuse_reply_err(req, ENOTDIR);
    with_reader(fs, req, [&fs, req, node, info = *fi](const std::shared_ptr<Container>& container) mutable {
        auto charge = fs.charge(container, false);
        if (!charge) return (void)fuse_reply_err(req, errnum_of(charge.error()));
        auto dir = fs.list(*node, container.get());
        if (!dir) return (void)fuse_reply_err(req, errnum_of(dir.error()));
        std::unique_ptr<Filesystem::OpenDir> open(*dir);
        open->charge = std::move(*charge);
        info.fh = fs.dirs.add(std::move(open));
        if (fuse_reply_open(req, &info) != 0) fs.dirs.remove(info.fh);
    });
}

void reply_readdir(fuse_req_t req, const Filesystem::OpenDir& dir, size_t size, off_t off) {
    std::string buf(size, '\0');
    size_t used = 0;
    for (auto i = static_cast<size_t>(off); i < dir.entries.size(); ++i) {
        const auto& e = dir.entries[i];
        struct stat st{};
        st.st_ino = e.ino;
        st.st_mode = e.type;
        size_t need = fuse_add_direntry(req, buf.data() + used, size - used, e.name.c_str(), &st, static_cast<off_t>(i + 1));
        if (need > size - used) break;
        used += need;
    }
    fuse_reply_buf(req, buf.data(), used);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
    auto& fs = fs_of(req);
    if (auto dir = fs.dirs.find(fi->fh)) return reply_readdir(req, *dir, size, off);
    // Opened under a previous instance.
    if (per_container(fs, ino)) {
        auto listed = fs.list_per_container(ino);
        if (!listed) return (void)fuse_reply_err(req, errnum_of(listed.error()));
        fs.dirs.adopt(fi->fh, std::unique_ptr<Filesystem::OpenDir>(*listed));
        if (auto dir = fs.dirs.find(fi->fh)) return reply_readdir(req, *dir, size, off);
        return (void)fuse_reply_err(req, EBADF);
    }
    NodeRef node = fs.tree.find(ino);
    if (!node) return (void)fuse_reply_err(req, EBADF);
    with_reader(fs, req, [&fs, req, node, fh = fi->fh, size, off](const std::shared_ptr<Container>& container) {
        auto listed = fs.list(*node, container.get());
        if (!listed) return (void)fuse_reply_err(req, errnum_of(listed.error()));
        std::unique_ptr<Filesystem::OpenDir> open(*listed);
        if (auto charge = fs.charge(container, true)) open->charge = std::move(*charge);
        fs.dirs.adopt(fh, std::move(open));
        auto dir = fs.dirs.find(fh);
        if (!dir) return (void)fuse_reply_err(req, EBADF);  // released meanwhile
        reply_readdir(req, *dir, size, off);
    });
}

void op_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    fs_of(req).dirs.remove(fi->fh);
    fuse_reply_err(req, 0);
}

void op_statfs(fuse_req_t req, fuse_ino_t) {
    struct statvfs st{};
    st.f_bsize = 4096;
    st.f_frsize = 4096;
    st.f_namemax = 255;
    fuse_reply_statfs(req, &st);
}

// Read-only for everyone, whatever the mount flags say.
void op_setattr(fuse_req_t req, fuse_ino_t, struct stat*, int, fuse_file_info*) { fuse_reply_err(req, EROFS); }
void op_mknod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { fuse_reply_err(req, EROFS); }
void op_mkdir(fuse_req_t req, fuse_ino_t, const char*, mode_t) { fuse_reply_err(req, EROFS); }
void op_unlink(fuse_req_t req, fuse_ino_t, const char*) { fuse_reply_err(req, EROFS); }
void op_symlink(fuse_req_t req, const char*, fuse_ino_t, const char*) { fuse_reply_err(req, EROFS); }
void op_rename(fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*, unsigned) { fuse_reply_err(req, EROFS); }
void op_link(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { fuse_reply_err(req, EROFS); }
void op_write(fuse_req_t req, fuse_ino_t, const char*, size_t, off_t, fuse_file_info*) { fuse_reply_err(req, EROFS); }
void op_create(fuse_req_t req, fuse_ino_t, const char*, mode_t, fuse_file_info*) { fuse_reply_err(req, EROFS); }
void op_setxattr(fuse_req_t req, fuse_ino_t, const char*, const char*, size_t, int) { fuse_reply_err(req, EROFS); }
void op_removexattr(fuse_req_t req, fuse_ino_t, const char*) { fuse_reply_err(req, EROFS); }
void op_fallocate(fuse_req_t req, fuse_ino_t, int, off_t, off_t, fuse_file_info*) { fuse_reply_err(req, EROFS); }

const fuse_lowlevel_ops kOperations = [] {
    fuse_lowlevel_ops ops{};
    ops.init = op_init;
    ops.lookup = op_lookup;
    ops.getattr = op_getattr;
    ops.readlink = op_readlink;
    ops.open = op_open;
    ops.read = op_read;
    ops.release = op_release;
    ops.opendir = op_opendir;
    ops.readdir = op_readdir;
    ops.releasedir = op_releasedir;
    ops.statfs = op_statfs;
    ops.setattr = op_setattr;
    ops.mknod = op_mknod;
    ops.mkdir = op_mkdir;
    ops.unlink = op_unlink;
    ops.rmdir = op_unlink;
    ops.symlink = op_symlink;
    ops.rename = op_rename;
    ops.link = op_link;
    ops.write = op_write;
    ops.create = op_create;
    ops.setxattr = op_setxattr;
    ops.removexattr = op_removexattr;
    ops.fallocate = op_fallocate;
    // No flush, getxattr, listxattr or access: the kernel gets ENOSYS once
    // and stops asking, which saves a round trip on every close.
    return ops;
}();

}  // namespace

Filesystem::Filesystem(ContainerRegistry& registry_, ViewEngine& engine_, HostFiles& host_,
                       std::shared_ptr<spdlog::logger> log_, std::size_t max_handles_per_container,
                       std::size_t max_handles)
    : tree(host_.sys_cpu_fd()),
      budget(max_handles_per_container, max_handles),
      registry(registry_), engine(engine_), host(host_), log(std::move(log_)) {
    ::clock_gettime(CLOCK_REALTIME, &mount_time);
}

const fuse_lowlevel_ops& Filesystem::operations() { return kOperations; }

std::shared_ptr<Container> Filesystem::reader(pid_t pid) { return placed_or_host(pid, registry.resolve(pid)); }

std::shared_ptr<Container> Filesystem::placed_or_host(pid_t pid, Result<std::shared_ptr<Container>> found) {
    if (found) return std::move(*found);
    // A reader that cannot be placed (it exited, or its cgroups are gone)
    // sees the host's files rather than an error; say so, but not per read.
    int64_t now = monotonic_ms();
    int64_t last = last_resolve_warning_ms.load(std::memory_order_relaxed);
    if (now - last > 10'000 && last_resolve_warning_ms.compare_exchange_strong(last, now))
        log->warn("reader {}: {}; serving the host's view", pid, found.error().describe());
    return nullptr;
}

double Filesystem::entry_timeout(const Node& node) const {
    if (node.kind == NodeKind::pressure_file || node.kind == NodeKind::sys_cpu) return kPerReaderTimeout;
    return kStableTimeout;
}

Result<std::string> Filesystem::host_path(const Node& node, Container* container) {
    if (!container) return host_cpu_path(node.cpu_path, nullptr);
    auto view = engine.cpu_view(container);
    if (!view) return view.error();
    return host_cpu_path(node.cpu_path, &*view);
}

Result<HandleBudget::Charge> Filesystem::charge(const std::shared_ptr<Container>& container, bool orphan) {
    auto owner = container ? container->handles : host_handles_;
    HandleBudget::Charge charge;
    switch (budget.take(owner, charge, orphan)) {
        case HandleBudget::Refused::none: return charge;
        case HandleBudget::Refused::owner_full:
            if (!owner->refused.exchange(true))
                log->warn("{}: {} open files and directories, the most one container may hold; refusing more with EMFILE",
                          container ? container->describe() : "host readers", budget.per_owner());
            return make_error(EMFILE, "too many open handles for this container");
        case HandleBudget::Refused::total_full: break;
    }
    int64_t now = monotonic_ms();
    int64_t last = last_budget_warning_ms.load(std::memory_order_relaxed);
    if (now - last > 10'000 && last_budget_warning_ms.compare_exchange_strong(last, now))
        log->warn("{} open files and directories in all, the most procviewfs holds; refusing more with ENFILE",
                  budget.total_cap());
    return make_error(ENFILE, "too many open handles");
}

Result<std::unique_ptr<Filesystem::OpenFile>> Filesystem::open_file(NodeRef ref, std::shared_ptr<Container> container,
                                                                  bool orphan) {
    const Node& node = *ref;
    auto charged = charge(container, orphan);
    if (!charged) return charged.error();
    auto file = std::make_unique<OpenFile>();
    file->charge = std::move(*charged);
    file->node = std::move(ref);
    file->container = std::move(container);
    if (node.kind == NodeKind::pressure_file && !engine.has_pressure(file->container.get()))
        return make_error(ENOENT, "no pressure files for this reader");
    if (node.kind == NodeKind::sys_cpu) {
        auto path = host_path(node, file->container.get());
        if (!path) return path.error();
        file->host_path = std::move(*path);
    }
    return file;
}

off_t Filesystem::size_bound(const Node& node) {
    std::lock_guard lock(bounds_mu_);
    if (auto it = bounds_.find(node.ino); it != bounds_.end()) return it->second;
    off_t bound;
    if (node.kind == NodeKind::sys_cpu) {
        bound = 4096;  // sysfs content fits one page
    } else {
        std::string name = node.kind == NodeKind::pressure_file ? "pressure/" + node.name : node.name;
        auto host_text = host.read_proc(name);
        std::size_t length = host_text ? host_text->size() : 0;
        // Twice the host's length and at least a page more: a container's file
        // (fewer CPUs, smaller numbers) never reaches the last page.
        bound = static_cast<off_t>(((length * 2 + 4096) / 4096 + 1) * 4096);
    }
    bounds_.emplace(node.ino, bound);
    return bound;
}

Result<struct stat> Filesystem::attributes(const Node& node, Container* container) {
    struct stat st{};
    st.st_ino = node.ino;
    st.st_uid = 0;
    st.st_gid = 0;
    st.st_atim = st.st_mtim = st.st_ctim = mount_time;
    switch (node.kind) {
        case NodeKind::directory:
            st.st_mode = S_IFDIR | 0555;
            st.st_nlink = 2;
            return st;
        case NodeKind::pressure_file:
            if (!engine.has_pressure(container)) return make_error(ENOENT, "no pressure for this reader");
            [[fallthrough]];
        case NodeKind::proc_file:
            st.st_mode = S_IFREG | 0444;
            st.st_nlink = 1;
            // Not 0 like procfs: a page-cache (splice) read of a size-0 file
            // ends at once with 0 bytes, which sendfile callers take for an
            // empty file; with a size, it reaches op_read, which refuses it
            // so they fall back to read(2). The bound is never smaller than
            // a container's content: twice the host's length and a page more.
            st.st_size = size_bound(node);
            st.st_blksize = 4096;
            return st;
        case NodeKind::sys_cpu: break;
    }
    auto path = host_path(node, container);
    if (!path) return path.error();
    struct stat host_st{};
    if (::fstatat(host.sys_cpu_fd(), path->c_str(), &host_st, AT_SYMLINK_NOFOLLOW) != 0)
        return make_error(errno, "stat `" + *path + "`");
    st.st_mode = host_st.st_mode & ~static_cast<mode_t>(0222);
    st.st_nlink = host_st.st_nlink;
    st.st_size = S_ISREG(host_st.st_mode) ? size_bound(node) : host_st.st_size;
    st.st_blksize = host_st.st_blksize;
    return st;
}

Result<std::string> Filesystem::render(OpenFile& file) {
    const Node& node = *file.node;
    if (node.kind == NodeKind::proc_file || node.kind == NodeKind::pressure_file)
        return engine.render(node.file, file.container.get());
    if (file.container && is_rendered_cpu_list(node.cpu_path)) return engine.render_cpu_list(node.cpu_path, *file.container);
    return read_file_at(host.sys_cpu_fd(), file.host_path);
}

Result<Filesystem::OpenDir*> Filesystem::list_per_container(fuse_ino_t ino) {
    auto listed = containers->list(ino);
    if (!listed) return listed.error();
    auto dir = std::make_unique<OpenDir>();
    for (auto& e : *listed) dir->entries.push_back({std::move(e.name), e.ino, e.type});
    return dir.release();
}

Result<Filesystem::OpenDir*> Filesystem::list(const Node& node, Container* container) {
    auto dir = std::make_unique<OpenDir>();
    dir->entries.push_back({".", node.ino, S_IFDIR});
    dir->entries.push_back({"..", node.parent, S_IFDIR});
    if (node.kind == NodeKind::directory) {
        for (const NodeRef& child : tree.static_children(node.ino)) {
            if (containers_only && child->ino != CachedViews::kTopIno) continue;
            if (child->kind == NodeKind::pressure_file && !engine.has_pressure(container)) continue;
            bool is_dir = child->kind == NodeKind::directory || child->kind == NodeKind::sys_cpu;
            dir->entries.push_back({child->name, child->ino, static_cast<mode_t>(is_dir ? S_IFDIR : S_IFREG)});
        }
        return dir.release();
    }
    auto path = host_path(node, container);
    if (!path) return path.error();
    UniqueDir d = UniqueDir::open_at(host.sys_cpu_fd(), path->c_str());
    if (!d) return make_error(errno, "list `" + *path + "`");
    // The top directory shows cpu0..cpuN-1 of the reader's view instead of the host's CPUs.
    std::optional<CpuView> view;
    const bool top = node.cpu_path.empty();
    if (top && container) {
        auto v = engine.cpu_view(container);
        if (!v) return v.error();
        view = std::move(*v);
    }
    while (auto* entry = d.next()) {
        std::string_view name = entry->d_name;
        if (name == "." || name == "..") continue;
        if (view && cpu_index(name)) continue;
        NodeRef child = tree.remember(tree.child(node, name));  // listed by the host: it exists
        if (!child) continue;
        mode_t type = entry->d_type == DT_DIR ? S_IFDIR : entry->d_type == DT_LNK ? S_IFLNK : S_IFREG;
        dir->entries.push_back({std::string(name), child->ino, type});
    }
    d.reset();
    if (view) {
        for (std::size_t i = 0; i < view->count(); ++i) {
            std::string name = "cpu" + std::to_string(i);
            if (NodeRef child = tree.remember(tree.child(node, name))) dir->entries.push_back({name, child->ino, S_IFDIR});
        }
    }
    return dir.release();
}

}  // namespace procview
