// Knows when a cgroup limit file may have changed, so its content can be kept
// between reads instead of re-read on every one.
//
// Limits (memory.max, cpu.max, cpu.cfs_quota_us…) change only when someone
// writes the file, and every write(2) to a cgroupfs file raises IN_MODIFY on
// its inode, queued before the writer's write returns. One inotify fd
// (shared by every hierarchy) watches every limit file any container has
// read; each batch of events bumps a generation, and a cached limit is used
// only while the generation it was read at is current. The view engine drains
// the queue once at the start of every view (one non-blocking read, however
// many limits the view uses), so a reader that changes a limit and then reads
// its view always sees the change.
//
// Usage and statistics files (memory.current, cpu.stat…) change without
// writes and are never cached; neither is cpuset's effective list, which a
// parent's write or CPU hotplug changes without touching the file itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

#include "platform/unique_fd.hpp"

namespace procview {

class ChangeWatch {
public:
    // nullptr when inotify is unavailable: callers then read every time.
    static std::shared_ptr<ChangeWatch> create();

    // Drains pending events and returns the current generation, which is
    // larger than any generation returned before those events were queued.
    uint64_t refresh();
    // The generation as of the last refresh(), without draining (no system call).
    [[nodiscard]] uint64_t current() const { return generation_.load(std::memory_order_acquire); }

    // Starts watching the file open as `fd` for writes. False when it cannot
    // (the inotify watch limit): that file is then read every time.
    bool watch(int fd);

    // Whether `name` is a cgroup file that changes only by being written (a
    // `limit` of core/cgroup_file_table.hpp).
    static bool is_written_only(std::string_view name);

private:
    explicit ChangeWatch(UniqueFd inotify) : inotify_(std::move(inotify)) {}

    UniqueFd inotify_;
    // Held while draining and bumping, so a thread that finds the queue
    // empty because another just drained it still sees that one's bump.
    std::mutex mu_;
    std::atomic<uint64_t> generation_{1};
};

}  // namespace procview
