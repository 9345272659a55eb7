// The FUSE adapter: low-level handlers that find the reader, ask the view
// engine for content and reply exactly once.
//
// State is reached through fuse_req_userdata(); nothing is global. Lock order:
// OpenFile::mu → Container::mu (taken inside ViewEngine) → the registry's,
// the tree's and the stat record store's own locks, which are never held
// while calling out.
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "fusefs/cached_views.hpp"
#include "fusefs/container.hpp"
#include "fusefs/handles.hpp"
#include "fusefs/host_files.hpp"
#include "fusefs/setup_worker.hpp"
#include "fusefs/tree.hpp"
#include "fusefs/view_engine.hpp"

namespace procview {

class Filesystem {
public:
    // Open handles (files and directories) one container's readers may hold,
    // and all readers together; past them open gets EMFILE, ENFILE.
    static constexpr std::size_t kDefaultMaxHandlesPerContainer = 4096;
    static constexpr std::size_t kDefaultMaxHandles = 262144;

    Filesystem(ContainerRegistry& registry, ViewEngine& engine, HostFiles& host, std::shared_ptr<spdlog::logger> log,
               std::size_t max_handles_per_container = kDefaultMaxHandlesPerContainer,
               std::size_t max_handles = kDefaultMaxHandles);

    static const fuse_lowlevel_ops& operations();

    // Called from the handlers (public for the static adapter functions).
    struct OpenFile;
    struct OpenDir;
    // The container of the reader `pid`; nullptr (the host's view) for a host
    // reader and for one that cannot be placed (logged, not per read).
    std::shared_ptr<Container> reader(pid_t pid);
    std::shared_ptr<Container> placed_or_host(pid_t pid, Result<std::shared_ptr<Container>> found);
    // The state of an open file for this reader (OPEN, or an orphaned handle:
    // charged to the budget past its caps, as the kernel already holds it).
    Result<std::unique_ptr<OpenFile>> open_file(NodeRef node, std::shared_ptr<Container> container, bool orphan = false);
    // A place in the handle budget for a handle of `container`'s reader
    // (nullptr: the host's readers); EMFILE/ENFILE when full, logged once
    // per container (the total at most every 10 s).
    Result<HandleBudget::Charge> charge(const std::shared_ptr<Container>& container, bool orphan);
    Result<struct stat> attributes(const Node& node, Container* container);
    Result<std::string> render(OpenFile& file);
    Result<OpenDir*> list(const Node& node, Container* container);
    // containers/ or a per-container directory (cached_views.hpp).
    Result<OpenDir*> list_per_container(fuse_ino_t ino);
    // The host path behind a sys/devices/system/cpu node for this reader (cpuK renumbered).
    Result<std::string> host_path(const Node& node, Container* container);
    double entry_timeout(const Node& node) const;
    // An st_size no rendering of the file exceeds (see attributes()).
    off_t size_bound(const Node& node);

    Tree tree;
    HandleBudget budget;  // before the tables: their handles give their charges back to it
    HandleTable<OpenFile> files;
    HandleTable<OpenDir> dirs;
    ContainerRegistry& registry;
    ViewEngine& engine;
    HostFiles& host;
    std::shared_ptr<spdlog::logger> log;
    timespec mount_time{};
    std::atomic<int64_t> last_resolve_warning_ms{0};
    std::atomic<int64_t> last_budget_warning_ms{0};
    std::atomic<int64_t> last_setup_warning_ms{0};
    // Where requests of readers whose container is not known yet continue
    // (not started: they continue inline, as with a multi-threaded loop).
    SetupWorker setup;
    // containers/: per-container views (nullptr: containers/ stays empty).
    CachedViews* containers = nullptr;
    // Only containers/ is served, and OPEN is answered ENOSYS: the kernel then
    // opens without asking (connection-wide FUSE_NO_OPEN_SUPPORT).
    bool containers_only = false;

private:
    std::shared_ptr<HandleBudget::Count> host_handles_ = std::make_shared<HandleBudget::Count>();
    std::mutex bounds_mu_;
    std::unordered_map<fuse_ino_t, off_t> bounds_;  // size_bound() per inode, fixed once computed
};

struct Filesystem::OpenFile {
    std::mutex mu;  // concurrent reads on one fd (multi-threaded loop)
    NodeRef node;
    std::shared_ptr<Container> container;  // nullptr: host reader
    std::string host_path;                 // sys_cpu passthrough: the host file
    // The rendering being read. Freed once a read reaches its end (an idle
    // open file then costs ~200 bytes); a read at 0 < offset < length after
    // that renders anew.
    std::string content;
    std::size_t length = 0;  // of the last rendering, kept when content is freed
    bool rendered = false;
    bool consumed = false;  // a read happened since the render: offset 0 renders anew
    bool freed = false;
    HandleBudget::Charge charge;
};

struct Filesystem::OpenDir {
    struct Entry {
        std::string name;
        fuse_ino_t ino;
        mode_t type;
    };
    std::vector<Entry> entries;
    HandleBudget::Charge charge;
};

}  // namespace procview
