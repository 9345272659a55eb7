// The thread that keeps per-container files right while the kernel caches
// them (cached_views.hpp).
//
// Expiry needs no timer: a rendering's attribute timeout ends with the
// freshness window, and the kernel (FUSE_CAP_AUTO_INVAL_DATA) then asks for
// the attributes before its next read and drops its pages when the mtime
// moved. What the kernel cannot know is that a limit was written: this thread
// watches the limit files (memory.max, cpu.max, cpuset.cpus, their v1
// equivalents, in the container's cgroup and its ancestors) with its own
// inotify instance and calls back with the containers whose limits changed,
// which drop their renderings and invalidate the kernel's copy. (The view
// engine's ChangeWatch is drained by whichever render comes first and does
// not say which file changed; here no render comes while the kernel serves
// from its cache.) Once a second it also calls tick(), which forgets
// containers whose process exited.
//
// Watches are kept per container and removed with it, so they are bounded by
// the containers served.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "platform/unique_fd.hpp"

namespace procview {

class FreshnessThread {
public:
    struct Callbacks {
        // A limit file of container `key` was written (or its watch ended).
        std::function<void(uint64_t key)> limits_changed;
        // Once a second: sweeps.
        std::function<void(int64_t now_ms)> tick;
    };

    explicit FreshnessThread(Callbacks callbacks);
    ~FreshnessThread();
    FreshnessThread(const FreshnessThread&) = delete;
    FreshnessThread& operator=(const FreshnessThread&) = delete;

    // Watches `path` for writes on behalf of container `key`; false if it cannot.
    bool watch(const std::string& path, uint64_t key);
    void unwatch(uint64_t key);

    void start();
    // Idempotent, from any thread but this one's.
    void stop();
    [[nodiscard]] std::size_t watches();

private:
    void run();
    void drain_inotify();

    Callbacks callbacks_;
    UniqueFd wake_;     // eventfd: stop
    UniqueFd inotify_;  // may be invalid: limits then change only when the window ends
    std::atomic<bool> stop_{false};
    std::mutex stop_mu_;  // stop() may come from the signal waiter, the keeper watcher and main at once
    std::thread thread_;

    std::mutex mu_;  // guards the watch maps
    std::unordered_map<int, std::set<uint64_t>> keys_of_wd_;
    std::unordered_map<uint64_t, std::vector<int>> wds_of_key_;
};

}  // namespace procview
