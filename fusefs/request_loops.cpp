#include "request_loops.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>

namespace procview {

RequestLoops::RequestLoops(fuse_session* session) : session_(session) {}

void RequestLoops::install_signal_handler() {
    struct sigaction sa{};
    sa.sa_handler = [](int) {};  // only there to make the blocking read return EINTR
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;             // no SA_RESTART, for the same reason
    ::sigaction(kStopLoopSignal, &sa, nullptr);
}

std::size_t RequestLoops::register_current_thread() {
    std::lock_guard lock(mu_);
    loops_.push_back(Loop{pthread_self(), true});
    return loops_.size() - 1;
}

int RequestLoops::serve(std::size_t index) {
    fuse_buf buf{};  // one buffer per loop: libfuse reads each request into it
    int rc = 0;
    while (!stop_.load() && !fuse_session_exited(session_)) {
        int n = fuse_session_receive_buf(session_, &buf);
        if (n == -EINTR || n == -EAGAIN) continue;
        if (n <= 0) {  // 0: unmounted (libfuse set the exit flag on ENODEV)
            rc = n;
            break;
        }
        fuse_session_process_buf(session_, &buf);
    }
    std::free(buf.mem);
    std::lock_guard lock(mu_);
    loops_[index].running = false;
    return rc;
}

int RequestLoops::run(unsigned count) {
    std::vector<std::thread> others;
    std::atomic<int> failed{0};
    for (unsigned i = 1; i < count; ++i)
        others.emplace_back([this, &failed] {
            if (int rc = serve(register_current_thread()); rc < 0) failed = rc;
        });
    int rc = serve(register_current_thread());
    // One loop seeing the unmount does not wake the others' reads: stop them.
    stop();
    for (auto& t : others) t.join();
    return rc < 0 ? rc : failed.load();
}

void RequestLoops::stop() {
    stop_ = true;
    for (;;) {
        bool any_running = false;
        {
            std::lock_guard lock(mu_);
            for (const Loop& loop : loops_) {
                if (!loop.running || pthread_equal(loop.thread, pthread_self())) continue;
                any_running = true;
                pthread_kill(loop.thread, kStopLoopSignal);
            }
        }
        if (!any_running) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

sigset_t block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    return set;
}

StopSignalWaiter::StopSignalWaiter(sigset_t signals, std::function<void(int)> on_signal)
    : thread_([this, signals, on_signal = std::move(on_signal)] {
          int sig = 0;
          while (::sigwait(&signals, &sig) != 0) {
          }
          if (!closing_.load()) on_signal(sig);
      }) {}

StopSignalWaiter::~StopSignalWaiter() {
    closing_ = true;
    // SIGHUP is one of the signals it waits for; if it already returned, the
    // thread id is still valid until the join below.
    pthread_kill(thread_.native_handle(), SIGHUP);
    thread_.join();
}

}  // namespace procview
