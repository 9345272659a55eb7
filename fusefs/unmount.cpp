#include "fusefs/unmount.hpp"

#include <poll.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <iostream>
#include <optional>

#include "fusefs/session.hpp"
#include "fusefs/stat_records.hpp"
#include "fusefs/unix_message.hpp"

namespace procview {

namespace {

constexpr int kWaitMs = 5000;

bool procviewfs_mounted(const std::string& mountpoint) {
    return mounted_type(mountpoint) == std::optional<std::string>("fuse.procviewfs");
}

// The keeper closes its end when it exits: drain its messages until EOF.
bool wait_for_keeper_exit(int keeper, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{keeper, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) return false;
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && !receive_message(keeper)) return true;
    }
}

int fail(const std::string& message) {
    std::cerr << "procviewfs: " << message << "\n";
    return 1;
}

// The counters kept for the next daemon (stat_records.hpp) have no reader left.
void remove_stat_records(const std::string& mountpoint, spdlog::logger& log) {
    auto store = StatRecordStore::open(stat_record_dir(mountpoint), 1, spdlog::default_logger());
    if (store) (*store)->remove_all();
    else log.warn("{}", store.error().describe());
}

}  // namespace

int run_unmount(const std::string& mountpoint, spdlog::logger& log) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
    auto conn = attach_to_keeper(mountpoint, log);
    if (!conn) {
        int err = conn.error().errnum;
        if (err != ENOENT && err != ECONNREFUSED) return fail("cannot unmount " + mountpoint + ": " + conn.error().describe());
        if (!procviewfs_mounted(mountpoint)) {
            // A lock file left by a daemon that ended without --unmount (and that nobody holds).
            if (auto lock = acquire_instance_lock(mountpoint, false, 0)) remove_instance_lock(mountpoint, std::move(*lock));
            std::cout << "procviewfs: nothing mounted at " << mountpoint << "\n";
            return 0;
        }
        // No keeper: nothing holds the connection but a daemon, if any.
        if (::umount2(mountpoint.c_str(), MNT_DETACH) != 0)
            return fail("unmount " + mountpoint + ": " + std::string(std::strerror(errno)));
        remove_stat_records(mountpoint, log);
        if (auto lock = acquire_instance_lock(mountpoint, false, 0)) remove_instance_lock(mountpoint, std::move(*lock));
        std::cout << "procviewfs: unmounted " << mountpoint << " (it had no keeper)\n";
        return 0;
    }
    // SERVING makes us the owner (the serving daemon gets RETIRE and exits);
    // only the owner may UNMOUNT (keeper.hpp).
    int keeper = conn->keeper.get();
    if (auto r = tell_keeper(keeper, "SERVING"); !r) return fail(r.error().describe());
    if (auto r = tell_keeper(keeper, "UNMOUNT"); !r) return fail(r.error().describe());
    if (!wait_for_keeper_exit(keeper, deadline))
        return fail("the keeper of " + mountpoint + " did not exit within " + std::to_string(kWaitMs / 1000) + " s");
    if (procviewfs_mounted(mountpoint)) return fail(mountpoint + " is still mounted");
    // The retired daemon holds the instance lock until it has exited.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto lock = acquire_instance_lock(mountpoint, true, static_cast<int>(std::max<long>(left.count(), 0)));
    if (!lock) log.warn("the daemon serving {} has not exited yet: {}", mountpoint, lock.error().describe());
    remove_stat_records(mountpoint, log);
    if (lock) remove_instance_lock(mountpoint, std::move(*lock));
    std::cout << "procviewfs: unmounted " << mountpoint << "\n";
    return 0;
}

}  // namespace procview
