// The FUSE adapter: low-level handlers that find the reader, ask the view
// engine for content and reply exactly once.
//
// State is reached through fuse_req_userdata(); nothing is global. Lock order:
// OpenFile::mu → Container::mu (taken inside ViewEngine) → the registry's and
// the tree's own locks, which are never held while calling out.
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "fusefs/container.hpp"
#include "fusefs/host_files.hpp"
#include "fusefs/setup_worker.hpp"
#include "fusefs/tree.hpp"
#include "fusefs/view_engine.hpp"

namespace procview {

// Open files and directories by 64-bit handle: the instance's random nonce in
// the high half, a counter in the low half. The kernel keeps handles across a
// daemon restart (it does not know the daemon changed), so a handle this
// instance does not know is an orphan from a previous instance, not memory to
// dereference: the caller re-creates its state and adopts it under that handle.
template <class T>
class HandleTable {
public:
    HandleTable();
    uint64_t add(std::unique_ptr<T> item);
    void adopt(uint64_t handle, std::unique_ptr<T> item);
    // Shared ownership keeps an entry alive while a concurrent RELEASE removes it.
    std::shared_ptr<T> find(uint64_t handle);
    void remove(uint64_t handle);
    std::size_t size();

private:
    uint64_t nonce_;
    uint64_t next_ = 1;
    std::mutex mu_;
    std::unordered_map<uint64_t, std::shared_ptr<T>> items_;
};

class Filesystem {
public:
    Filesystem(ContainerRegistry& registry, ViewEngine& engine, HostFiles& host, std::shared_ptr<spdlog::logger> log);

    static const fuse_lowlevel_ops& operations();

    // Called from the handlers (public for the static adapter functions).
    struct OpenFile;
    struct OpenDir;
    // The container of the reader `pid`; nullptr (the host's view) for a host
    // reader and for one that cannot be placed (logged, not per read).
    std::shared_ptr<Container> reader(pid_t pid);
    std::shared_ptr<Container> placed_or_host(pid_t pid, Result<std::shared_ptr<Container>> found);
    // The state of an open file for this reader (OPEN, or an orphaned handle).
    Result<std::unique_ptr<OpenFile>> open_file(const Node& node, std::shared_ptr<Container> container);
    Result<struct stat> attributes(const Node& node, Container* container);
    Result<std::string> render(OpenFile& file);
    Result<OpenDir*> list(const Node& node, Container* container);
    // The host path behind a sys/devices/system/cpu node for this reader (cpuK renumbered).
    Result<std::string> host_path(const Node& node, Container* container);
    double entry_timeout(const Node& node) const;
    // An st_size no rendering of the file exceeds (see attributes()).
    off_t size_bound(const Node& node);

    Tree tree;
    HandleTable<OpenFile> files;
    HandleTable<OpenDir> dirs;
    ContainerRegistry& registry;
    ViewEngine& engine;
    HostFiles& host;
    std::shared_ptr<spdlog::logger> log;
    timespec mount_time{};
    std::atomic<int64_t> last_resolve_warning_ms{0};
    // Where requests of readers whose container is not known yet continue
    // (not started: they continue inline, as with a multi-threaded loop).
    SetupWorker setup;

private:
    std::mutex bounds_mu_;
    std::unordered_map<fuse_ino_t, off_t> bounds_;  // size_bound() per inode, fixed once computed
};

struct Filesystem::OpenFile {
    std::mutex mu;  // concurrent reads on one fd (multi-threaded loop)
    const Node* node = nullptr;
    std::shared_ptr<Container> container;  // nullptr: host reader
    std::string host_path;                 // sys_cpu passthrough: the host file
    std::string content;
    bool rendered = false;
    bool consumed = false;  // a read happened since the render: offset 0 renders anew
};

struct Filesystem::OpenDir {
    struct Entry {
        std::string name;
        fuse_ino_t ino;
        mode_t type;
    };
    std::vector<Entry> entries;
};

}  // namespace procview
