#include "fusefs/cached_views.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "core/cgroup_files.hpp"
#include "fusefs/load_sampler.hpp"
#include "platform/fs.hpp"

namespace procview {
namespace {

// A directory name never comes to mean another process (freshness.hpp), so
// dentries and directory attributes can be kept for long.
constexpr double kStableTimeout = 3600.0;
constexpr uint8_t kFirstFile = static_cast<uint8_t>(NodeIndex::first_file);

// Files that change only when written and bound the view: their writes make
// the next read fresh. Watched in the cgroup and every ancestor.
constexpr std::string_view kLimitFiles[] = {
    "memory.max", "memory.swap.max", "cpu.max", "cpuset.cpus",                                  // v2
    "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "cpu.cfs_quota_us", "cpu.cfs_period_us",  // v1
};

int errnum_of(const Error& e) { return e.errnum > 0 ? e.errnum : EIO; }

bool is_file_index(uint8_t idx) { return idx >= kFirstFile && idx < kFirstFile + CachedViews::kFiles; }
ProcFile file_of(uint8_t idx) { return static_cast<ProcFile>(idx - kFirstFile); }
bool is_pressure(ProcFile f) {
    return f == ProcFile::pressure_cpu || f == ProcFile::pressure_memory || f == ProcFile::pressure_io;
}

// The start time of process `pid` now.
Result<uint64_t> start_ticks_of(pid_t pid) {
    auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!text) return text.error();
    auto parsed = parse_proc_pid_stat(*text);
    if (!parsed) return parsed.error();
    return parsed->start_ticks;
}

// The process thread `tid` belongs to: a request carries the calling
// thread's id, and a directory names a process (a thread's start time is its own).
Result<pid_t> process_of(pid_t tid) {
    auto text = read_file("/proc/" + std::to_string(tid) + "/status");
    if (!text) return text.error();
    return parse_status_tgid(*text);
}

void fill_dir(struct stat& st, fuse_ino_t ino, timespec when) {
    st.st_ino = ino;
    st.st_mode = S_IFDIR | 0555;
    st.st_nlink = 2;
    st.st_atim = st.st_mtim = st.st_ctim = when;
}

}  // namespace

CachedViews::CachedViews(ContainerRegistry& registry, ViewEngine& engine, CachedViewsOptions options,
                         std::shared_ptr<spdlog::logger> log)
    : registry_(registry), engine_(engine), options_(options), log_(std::move(log)),
      freshness_({.limits_changed = [this](uint64_t key) { limits_changed(key); },
                  .tick = [this](int64_t now) { tick(now); }}) {
    ::clock_gettime(CLOCK_REALTIME, &created_);
}

CachedViews::~CachedViews() { freshness_.stop(); }

std::size_t CachedViews::size() {
    std::shared_lock lock(mu_);
    return by_key_.size();
}

Result<std::shared_ptr<CachedViews::Entry>> CachedViews::entry(fuse_ino_t ino) {
    const uint64_t key = container_key(ino);
    {
        std::shared_lock lock(mu_);
        if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
    }
    // A number this instance never handed out (a restart), or one whose entry was swept.
    pid_t pid = pid_of_ino(ino);
    auto start = start_ticks_of(pid);
    if (!start || !start_matches(ino, *start)) return make_error(ENOENT, "process " + std::to_string(pid) + " is gone");
    return make_entry(ContainerName{pid, *start});
}

Result<std::shared_ptr<CachedViews::Entry>> CachedViews::make_entry(const ContainerName& id) {
    const uint64_t key = container_ino(id, 0);
    {
        std::shared_lock lock(mu_);
        if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
        if (by_key_.size() >= options_.max_containers)
            return make_error(ENFILE, std::to_string(by_key_.size()) + " per-container views, the most procviewfs keeps");
    }
    auto built = registry_.build_for_process(id.pid);
    if (!built) return built.error();
    if ((*built)->init_start_ticks != id.start_ticks) return make_error(ENOENT, "process " + std::to_string(id.pid) + " is gone");
    auto e = std::make_shared<Entry>();
    e->id = id;
    e->container = std::move(*built);
    {
        std::unique_lock lock(mu_);
        auto [it, inserted] = by_key_.emplace(key, e);
        if (!inserted) return it->second;
    }
    watch_limits(*e);
    log_->debug("per-container view {}: {}", format_container_name(id), e->container->describe());
    return e;
}

void CachedViews::watch_limits(const Entry& e) {
    const uint64_t key = container_ino(e.id, 0);
    const auto& g = e.container->cgroups;
    for (const auto& dir : {g.memory, g.cpu, g.cpuset, g.unified}) {
        if (!dir) continue;
        for (std::size_t depth = 0; depth < dir->levels(); ++depth)
            for (auto name : kLimitFiles)
                if (dir->has(name, depth))
                    (void)freshness_.watch("/proc/self/fd/" + std::to_string(dir->directory_fd(depth)) + "/" +
                                               std::string(name), key);
    }
}

void CachedViews::limits_changed(uint64_t key) {
    std::shared_ptr<Entry> e;
    {
        std::shared_lock lock(mu_);
        if (auto it = by_key_.find(key); it != by_key_.end()) e = it->second;
    }
    if (!e) return;
    for (std::size_t i = 0; i < kFiles; ++i) {
        {
            std::lock_guard lock(e->files[i].mu);
            if (e->files[i].rendered_ms < 0) continue;
            e->files[i].rendered_ms = -1;
        }
        // Pages and attributes: the next read asks GETATTR, which renders anew.
        // (-ENOENT when the kernel holds no inode for it: nothing to drop.)
        if (session_) fuse_lowlevel_notify_inval_inode(session_, container_ino(e->id, static_cast<uint8_t>(kFirstFile + i)), 0, 0);
    }
}

void CachedViews::sample_loads(int64_t now) {
    if (!engine_.options().loadavg || now - last_load_sample_ms_ < LoadSampler::kIntervalMs) return;
    last_load_sample_ms_ = now;
    std::vector<std::shared_ptr<Container>> read_lately;
    {
        std::shared_lock lock(mu_);
        for (const auto& [key, e] : by_key_)
            if (now - e->container->last_read_ms.load(std::memory_order_relaxed) < LoadSampler::kTrackWindowMs)
                read_lately.push_back(e->container);
    }
    for (const auto& c : read_lately) engine_.sample_load(*c);
}

void CachedViews::tick(int64_t now) {
    sample_loads(now);
    std::vector<std::shared_ptr<Entry>> gone;
    {
        std::unique_lock lock(mu_);
        std::erase_if(by_key_, [&](const auto& kv) {
            if (kv.second->container->init_alive()) return false;
            gone.push_back(kv.second);
            return true;
        });
    }
    for (const auto& e : gone) {
        freshness_.unwatch(container_ino(e->id, 0));
        // Let the kernel drop the dentry (and with it the inodes) now, not in an hour.
        if (session_) {
            std::string name = format_container_name(e->id);
            fuse_lowlevel_notify_inval_entry(session_, kTopIno, name.c_str(), name.size());
        }
        log_->debug("per-container view {}: process exited", format_container_name(e->id));
    }
}

// uptime is a clock: a cached one is older than processes started since
// (ps then prints negative ages), so it is rendered on every read.
int64_t CachedViews::window_for(ProcFile file) const { return file == ProcFile::uptime ? 0 : options_.window_ms; }

Result<void> CachedViews::render_locked(Entry& e, ProcFile file, Snapshot& f, bool keep_young) {
    int64_t now = monotonic_ms();
    if (f.rendered_ms >= 0 && (!keep_young || servable(now - f.rendered_ms, window_for(file)))) return {};
    auto text = engine_.render(file, e.container.get());
    if (!text) return text.error();
    f.content = std::move(*text);
    f.rendered_ms = now;
    ::clock_gettime(CLOCK_REALTIME, &f.mtime);
    return {};
}

Result<double> CachedViews::attributes(fuse_ino_t ino, struct stat& st) {
    st = {};
    const uint8_t idx = index_of_ino(ino);
    if (idx == static_cast<uint8_t>(NodeIndex::alias)) {
        st.st_ino = ino;
        st.st_mode = S_IFLNK | 0444;
        st.st_nlink = 1;
        st.st_atim = st.st_mtim = st.st_ctim = created_;
        return 0.0;  // the pid may come to name another process
    }
    auto e = entry(ino);
    if (!e) return e.error();
    if (!is_file_index(idx)) {
        if (idx > static_cast<uint8_t>(NodeIndex::pressure_dir)) return make_error(ENOENT, "no such node");
        if (idx == static_cast<uint8_t>(NodeIndex::pressure_dir) && !engine_.has_pressure((*e)->container.get()))
            return make_error(ENOENT, "no pressure files for this container");
        fill_dir(st, ino, created_);
        return kStableTimeout;
    }
    ProcFile file = file_of(idx);
    if (is_pressure(file) && !engine_.has_pressure((*e)->container.get()))
        return make_error(ENOENT, "no pressure files for this container");
    Snapshot& f = (*e)->files[static_cast<std::size_t>(file)];
    std::lock_guard lock(f.mu);
    if (auto r = render_locked(**e, file, f, true); !r) return r.error();
    st.st_ino = ino;
    st.st_mode = S_IFREG | 0444;
    st.st_nlink = 1;
    st.st_size = static_cast<off_t>(f.content.size());
    st.st_blksize = 4096;
    st.st_atim = st.st_ctim = st.st_mtim = f.mtime;
    return attr_timeout_s(monotonic_ms() - f.rendered_ms, window_for(file));
}

// ---- handlers ------------------------------------------------------------------

namespace {

// The index of `name` in a per-container directory of index `dir`, or nullopt.
std::optional<uint8_t> child_index(uint8_t dir, std::string_view name) {
    if (dir == static_cast<uint8_t>(NodeIndex::container_dir))
        return name == "proc" ? std::optional<uint8_t>(static_cast<uint8_t>(NodeIndex::proc_dir)) : std::nullopt;
    if (dir == static_cast<uint8_t>(NodeIndex::proc_dir) && name == "pressure")
        return static_cast<uint8_t>(NodeIndex::pressure_dir);
    for (std::size_t i = 0; i < CachedViews::kFiles; ++i) {
        auto full = proc_file_name(static_cast<ProcFile>(i));
        bool in_pressure = full.starts_with("pressure/");
        if (dir == static_cast<uint8_t>(NodeIndex::proc_dir) && !in_pressure && full == name)
            return static_cast<uint8_t>(kFirstFile + i);
        if (dir == static_cast<uint8_t>(NodeIndex::pressure_dir) && in_pressure && full.substr(9) == name)
            return static_cast<uint8_t>(kFirstFile + i);
    }
    return std::nullopt;
}

}  // namespace

void CachedViews::lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    fuse_ino_t ino = 0;
    if (parent == kTopIno) {
        // Each entry holds ~13 fds, and max_containers bounds them: only root
        // (the hook, an operator) may make one, or any host user (the mount is
        // allow_other) could fill the cap with its own processes and leave the
        // next container without its files. A container never looks up here:
        // its bind mounts hold the inodes.
        if (fuse_req_ctx(req)->uid != 0) return (void)fuse_reply_err(req, EACCES);
        if (std::string_view(name) == kSelfAlias) {
            ino = kSelfAliasIno;
        } else if (auto pid = parse_pid_alias(name)) {
            ino = alias_ino(*pid);
        } else if (auto id = parse_container_name(name)) {
            auto e = make_entry(*id);
            if (!e) return (void)fuse_reply_err(req, e.error().errnum == ENFILE ? ENFILE : ENOENT);
            ino = container_ino(*id, 0);
        } else {
            return (void)fuse_reply_err(req, ENOENT);
        }
    } else {
        auto idx = child_index(index_of_ino(parent), name);
        if (!idx) return (void)fuse_reply_err(req, ENOENT);
        ino = container_key(parent) | *idx;
    }
    fuse_entry_param e{};
    e.ino = ino;
    auto timeout = attributes(ino, e.attr);
    if (!timeout) return (void)fuse_reply_err(req, errnum_of(timeout.error()));
    e.attr_timeout = *timeout;
    e.entry_timeout = index_of_ino(ino) == static_cast<uint8_t>(NodeIndex::alias) ? 0.0 : kStableTimeout;
    fuse_reply_entry(req, &e);
}

void CachedViews::getattr(fuse_req_t req, fuse_ino_t ino) {
    struct stat st{};
    auto timeout = attributes(ino, st);
    if (!timeout) return (void)fuse_reply_err(req, errnum_of(timeout.error()));
    fuse_reply_attr(req, &st, *timeout);
}

void CachedViews::readlink(fuse_req_t req, fuse_ino_t ino) {
    if (index_of_ino(ino) != static_cast<uint8_t>(NodeIndex::alias)) return (void)fuse_reply_err(req, EINVAL);
    pid_t pid = pid_of_ino(ino);
    if (ino == kSelfAliasIno) {
        // The requester, in our pid namespace (0: it is not in it). Nothing is
        // made here: the directory the answer names is made, within
        // max_containers, by the lookup that follows.
        auto process = process_of(fuse_req_ctx(req)->pid);
        if (!process) return (void)fuse_reply_err(req, ENOENT);
        pid = *process;
    }
    auto start = start_ticks_of(pid);
    if (!start) return (void)fuse_reply_err(req, ENOENT);
    std::string target = format_container_name({pid, *start});
    if (ino == kSelfAliasIno) log_->debug("containers/self for thread {}: {}", fuse_req_ctx(req)->pid, target);
    fuse_reply_readlink(req, target.c_str());
}

void CachedViews::open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & (O_TRUNC | O_CREAT))) return (void)fuse_reply_err(req, EROFS);
    if (!is_file_index(index_of_ino(ino))) return (void)fuse_reply_err(req, EISDIR);
    auto e = entry(ino);
    if (!e) return (void)fuse_reply_err(req, errnum_of(e.error()));
    // No per-open state (fh 0): the inode says everything, and the kernel's
    // pages stay valid across opens until the attributes say otherwise.
    fi->fh = 0;
    fi->direct_io = 0;
    fi->keep_cache = 1;
    fuse_reply_open(req, fi);
}

void CachedViews::read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off) {
    const uint8_t idx = index_of_ino(ino);
    if (!is_file_index(idx)) return (void)fuse_reply_err(req, EISDIR);
    auto e = entry(ino);
    if (!e) return (void)fuse_reply_err(req, errnum_of(e.error()));
    Snapshot& f = (*e)->files[static_cast<std::size_t>(idx - kFirstFile)];
    std::lock_guard lock(f.mu);
    // The rendering the last GETATTR sized (whatever its age: the kernel
    // reads up to that size); a new one only if none is kept.
    if (auto r = render_locked(**e, file_of(idx), f, false); !r) return (void)fuse_reply_err(req, errnum_of(r.error()));
    auto length = static_cast<off_t>(f.content.size());
    size_t n = off >= length ? 0 : std::min(size, static_cast<size_t>(length - off));
    fuse_reply_buf(req, n ? f.content.data() + off : nullptr, n);
}

Result<std::vector<CachedViews::DirEntry>> CachedViews::list(fuse_ino_t ino) {
    std::vector<DirEntry> out;
    if (ino == kTopIno) {
        out.push_back({".", kTopIno, S_IFDIR});
        out.push_back({"..", FUSE_ROOT_ID, S_IFDIR});
        std::shared_lock lock(mu_);
        for (const auto& [key, e] : by_key_) out.push_back({format_container_name(e->id), key, S_IFDIR});
        return out;
    }
    const uint8_t idx = index_of_ino(ino);
    auto e = entry(ino);
    if (!e) return e.error();
    const uint64_t key = container_key(ino);
    bool pressure = engine_.has_pressure((*e)->container.get());
    out.push_back({".", ino, S_IFDIR});
    if (idx == static_cast<uint8_t>(NodeIndex::container_dir)) {
        out.push_back({"..", kTopIno, S_IFDIR});
        out.push_back({"proc", key | static_cast<uint8_t>(NodeIndex::proc_dir), S_IFDIR});
        return out;
    }
    if (idx == static_cast<uint8_t>(NodeIndex::pressure_dir) && !pressure) return make_error(ENOENT, "no pressure files");
    if (idx != static_cast<uint8_t>(NodeIndex::proc_dir) && idx != static_cast<uint8_t>(NodeIndex::pressure_dir))
        return make_error(ENOTDIR, "not a directory");
    bool in_pressure_dir = idx == static_cast<uint8_t>(NodeIndex::pressure_dir);
    out.push_back({"..", key | (in_pressure_dir ? 1u : 0u), S_IFDIR});
    if (!in_pressure_dir && pressure) out.push_back({"pressure", key | static_cast<uint8_t>(NodeIndex::pressure_dir), S_IFDIR});
    for (std::size_t i = 0; i < kFiles; ++i) {
        auto full = proc_file_name(static_cast<ProcFile>(i));
        if (full.starts_with("pressure/") != in_pressure_dir) continue;
        out.push_back({std::string(in_pressure_dir ? full.substr(9) : full), key | (kFirstFile + i), S_IFREG});
    }
    return out;
}

}  // namespace procview
