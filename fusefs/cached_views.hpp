// Per-container views the kernel can cache: containers/ in the served tree.
//
//   containers/                              the containers looked up so far
//   containers/<pid>-<start ticks>/          the view of process <pid> (the container's init)
//   containers/<pid>-<start ticks>/proc/     meminfo cpuinfo stat uptime loadavg diskstats swaps vmstat [pressure/]
//   containers/pid-<pid>                     symlink to <pid>-<start ticks> (for operators)
//   containers/self                          symlink to the <pid>-<start ticks> of the process
//                                            following it (a thread: its process), like /proc/self
//
// Whose view a file shows is fixed by its inode number (core/freshness.hpp):
// the process named by the directory, its own cgroup (not its pid namespace
// init's, so shareProcessNamespace and hostPID containers get their own
// limits), its start time and time namespace. No request needs the reader's
// pid, and what the kernel caches for one inode is right for every reader.
//
// Freshness: GETATTR renders the file unless its rendering is younger than
// the window, and keeps the text; its length is the st_size the kernel reads
// up to, its render time the mtime, and the attribute timeout what is left of
// the window. OPEN answers keep_cache, so the kernel serves reads from its
// page cache; once the attributes expire, its next read asks GETATTR again,
// gets a new mtime, and (FUSE_CAP_AUTO_INVAL_DATA) drops its pages, and the
// READ that follows serves the new text. So no read returns content older
// than the window (plus a jiffy: the kernel's attribute clock). A write to a
// limit file invalidates the container's files at once (freshness_thread.hpp).
// Window 0: every read asks GETATTR, which renders: today's always-live views.
//
// loadavg: the freshness thread takes every read container's load sample
// every 5 s (LoadSampler's interval), as the LoadSampler does for the shared files.
//
// Lookups in containers/ are root's alone (the hook, operators): an entry
// costs fds, and the cap must not be filled by any host user.
//
// self: its READLINK answers for the requester (the pid in the request, in
// our pid namespace; ENOENT when it is not in it or its start time cannot be
// read), with timeouts 0 and no symlink caching, so every path walk resolves
// it anew. A runtime's bind mount of containers/self/proc/<file> is resolved
// by the container's init (runc 1.1's runc init, crun 1.8's child; not with a
// user namespace: docs/runtime.md), so it pins that container's own files.
// A host process gets its own view too (the host's, in the root cgroup). The
// READLINK makes nothing; the lookup of the name it answers makes the entry,
// under the same root-only rule and max_containers cap.
//
// Lifetime: an entry is made at the directory's first lookup or, after a
// restart, at the first request for one of its inode numbers (the number
// names the process: nothing is kept on disk), and dropped within a second
// after its process exits. At most max_containers entries: past that
// lookups fail with ENFILE.
#pragma once

#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <array>
#include <ctime>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/freshness.hpp"
#include "fusefs/container.hpp"
#include "fusefs/freshness_thread.hpp"
#include "fusefs/view_engine.hpp"

namespace procview {

struct CachedViewsOptions {
    int64_t window_ms = 1000;
    std::size_t max_containers = 4096;
};

class CachedViews {
public:
    static constexpr std::size_t kFiles = 11;  // ProcFile values
    static constexpr fuse_ino_t kTopIno = 8;   // containers/ (tree.cpp)

    CachedViews(ContainerRegistry& registry, ViewEngine& engine, CachedViewsOptions options,
                std::shared_ptr<spdlog::logger> log);
    ~CachedViews();
    CachedViews(const CachedViews&) = delete;
    CachedViews& operator=(const CachedViews&) = delete;

    // The session invalidations go to; set before start().
    void set_session(fuse_session* session) { session_ = session; }
    void start() { freshness_.start(); }
    void stop() { freshness_.stop(); }

    // The FUSE handlers for per-container nodes (is_container_ino, or a
    // lookup in containers/); each replies exactly once.
    void lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
    void getattr(fuse_req_t req, fuse_ino_t ino);
    void readlink(fuse_req_t req, fuse_ino_t ino);
    void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
    void read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off);

    struct DirEntry {
        std::string name;
        fuse_ino_t ino;
        mode_t type;
    };
    // The entries of a per-container directory, or of containers/ (kTopIno).
    Result<std::vector<DirEntry>> list(fuse_ino_t ino);

    [[nodiscard]] std::size_t size();
    [[nodiscard]] std::size_t watches() { return freshness_.watches(); }
    [[nodiscard]] int64_t window_ms() const { return options_.window_ms; }

private:
    struct Snapshot {
        std::mutex mu;
        std::string content;
        int64_t rendered_ms = -1;  // monotonic; -1: none, or invalidated
        timespec mtime{};          // realtime of the render, what the kernel compares
    };
    struct Entry {
        ContainerName id;
        std::shared_ptr<Container> container;
        std::array<Snapshot, kFiles> files;
    };

    // The entry `ino` belongs to: known, or made if its process is alive.
    Result<std::shared_ptr<Entry>> entry(fuse_ino_t ino);
    Result<std::shared_ptr<Entry>> make_entry(const ContainerName& id);
    Result<double> attributes(fuse_ino_t ino, struct stat& st);
    // Renders `file` unless its rendering may still be served (with f.mu held).
    Result<void> render_locked(Entry& e, ProcFile file, Snapshot& f, bool keep_young);
    [[nodiscard]] int64_t window_for(ProcFile file) const;
    void watch_limits(const Entry& e);
    void limits_changed(uint64_t key);
    void tick(int64_t now);
    // Load samples of the containers read lately, every 5 s as the kernel
    // takes them (the LoadSampler knows only the registry's containers).
    void sample_loads(int64_t now);

    ContainerRegistry& registry_;
    ViewEngine& engine_;
    CachedViewsOptions options_;
    std::shared_ptr<spdlog::logger> log_;
    fuse_session* session_ = nullptr;
    timespec created_{};
    int64_t last_load_sample_ms_ = 0;  // the freshness thread's alone

    std::shared_mutex mu_;  // guards by_key_ (never held while rendering or calling the kernel)
    std::unordered_map<uint64_t, std::shared_ptr<Entry>> by_key_;
    FreshnessThread freshness_;  // last: its thread calls into the above
};

}  // namespace procview
