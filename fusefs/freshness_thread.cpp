#include "fusefs/freshness_thread.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>

#include "fusefs/container.hpp"

namespace procview {

FreshnessThread::FreshnessThread(Callbacks callbacks)
    : callbacks_(std::move(callbacks)),
      wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      inotify_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}

FreshnessThread::~FreshnessThread() { stop(); }

void FreshnessThread::start() {
    thread_ = std::thread([this] { run(); });
}

void FreshnessThread::stop() {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
    uint64_t one = 1;
    if (wake_) (void)!::write(wake_.get(), &one, sizeof one);
    if (thread_.joinable()) thread_.join();
}

bool FreshnessThread::watch(const std::string& path, uint64_t key) {
    if (!inotify_) return false;
    int wd = ::inotify_add_watch(inotify_.get(), path.c_str(), IN_MODIFY);
    if (wd < 0) return false;
    std::lock_guard lock(mu_);
    keys_of_wd_[wd].insert(key);
    auto& wds = wds_of_key_[key];
    if (std::find(wds.begin(), wds.end(), wd) == wds.end()) wds.push_back(wd);
    return true;
}

void FreshnessThread::unwatch(uint64_t key) {
    std::lock_guard lock(mu_);
    auto it = wds_of_key_.find(key);
    if (it == wds_of_key_.end()) return;
    for (int wd : it->second) {
        auto users = keys_of_wd_.find(wd);
        if (users == keys_of_wd_.end()) continue;
        users->second.erase(key);
        if (users->second.empty()) {
            keys_of_wd_.erase(users);
            ::inotify_rm_watch(inotify_.get(), wd);  // EINVAL when the cgroup went first: fine
        }
    }
    wds_of_key_.erase(it);
}

std::size_t FreshnessThread::watches() {
    std::lock_guard lock(mu_);
    return keys_of_wd_.size();
}

void FreshnessThread::drain_inotify() {
    alignas(inotify_event) std::array<char, 4096> buf;
    std::set<uint64_t> changed;
    for (;;) {
        ssize_t n = ::read(inotify_.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        std::lock_guard lock(mu_);
        for (ssize_t off = 0; off < n;) {
            const auto* ev = reinterpret_cast<const inotify_event*>(buf.data() + off);
            off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
            if (ev->mask & IN_Q_OVERFLOW) {  // lost events: every container may have changed
                for (const auto& [key, wds] : wds_of_key_) changed.insert(key);
                continue;
            }
            auto users = keys_of_wd_.find(ev->wd);
            if (users == keys_of_wd_.end()) continue;
            changed.insert(users->second.begin(), users->second.end());
            if (ev->mask & IN_IGNORED) keys_of_wd_.erase(users);  // the file (its cgroup) is gone
        }
    }
    for (uint64_t key : changed) callbacks_.limits_changed(key);
}

void FreshnessThread::run() {
    // Only request loops take the loop-stop signal.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    int64_t last_tick = monotonic_ms();
    while (!stop_) {
        int64_t now = monotonic_ms();
        std::array<pollfd, 2> fds{pollfd{wake_.get(), POLLIN, 0}, pollfd{inotify_.get(), POLLIN, 0}};
        int n = ::poll(fds.data(), inotify_ ? 2 : 1, static_cast<int>(std::max<int64_t>(1000 - (now - last_tick), 0)));
        if (stop_) break;
        if (n > 0 && (fds[0].revents & POLLIN)) {
            uint64_t count;
            (void)!::read(wake_.get(), &count, sizeof count);
        }
        if (n > 0 && inotify_ && (fds[1].revents & POLLIN)) drain_inotify();
        now = monotonic_ms();
        if (now - last_tick >= 1000) {
            last_tick = now;
            callbacks_.tick(now);
        }
    }
}

}  // namespace procview
