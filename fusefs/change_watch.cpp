#include "fusefs/change_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>

#include "core/cgroup_file_table.hpp"

namespace procview {

std::shared_ptr<ChangeWatch> ChangeWatch::create() {
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return nullptr;
    return std::shared_ptr<ChangeWatch>(new ChangeWatch(UniqueFd(fd)));
}

uint64_t ChangeWatch::refresh() {
    std::lock_guard lock(mu_);
    // Which file changed does not matter: any event (IN_MODIFY, IN_IGNORED
    // for a removed cgroup, IN_Q_OVERFLOW) makes every cached limit stale.
    alignas(inotify_event) std::array<char, 4096> events;
    bool changed = false;
    for (;;) {
        ssize_t n = ::read(inotify_.get(), events.data(), events.size());
        if (n > 0) {
            changed = true;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        // EAGAIN: drained. Any other error: treat as a change, so nothing
        // stale is ever served.
        if (n < 0 && errno != EAGAIN) changed = true;
        break;
    }
    if (changed) return generation_.fetch_add(1, std::memory_order_acq_rel) + 1;
    return generation_.load(std::memory_order_acquire);
}

bool ChangeWatch::watch(int fd) {
    // inotify watches paths; the fd's magic link names the very inode we read.
    std::string path = "/proc/self/fd/" + std::to_string(fd);
    return ::inotify_add_watch(inotify_.get(), path.c_str(), IN_MODIFY) >= 0;
}

bool ChangeWatch::is_written_only(std::string_view name) {
    return cgroup_file_kind(name) == CgroupFileKind::limit;
}

}  // namespace procview
