#pragma once
// The FUSE request loops, and how they stop without dropping a request.
//
// Why not fuse_session_loop / fuse_session_loop_mt: both stop by
// fuse_session_exit, and libfuse then discards a request it has already read
// from /dev/fuse (fuse_session_receive_buf returns 0 once the exit flag is
// set, and the multi-threaded workers return before processing). The kernel
// keeps that request on the reading fd's processing list; when that fd (our
// clone of the connection) closes at exit, the kernel fails the caller's
// read with ECONNABORTED. So a `systemctl restart` would break one read.
//
// Here each loop checks a stop flag only between requests, and a blocking
// read is interrupted with kStopLoopSignal (a thread-directed signal with an
// empty handler, installed without SA_RESTART). A signal that lands just
// before a read begins is lost, so stop() keeps knocking until every loop is
// out. The process-wide stop signals (SIGTERM/SIGINT/SIGHUP) are never
// handled by a handler: they stay blocked in every thread and one thread
// takes them with sigwait (StopSignalWaiter).

#include <fuse_lowlevel.h>

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace procview {

// Interrupts a loop's blocking read of /dev/fuse.
constexpr int kStopLoopSignal = SIGUSR1;

class RequestLoops {
public:
    explicit RequestLoops(fuse_session* session);
    RequestLoops(const RequestLoops&) = delete;
    RequestLoops& operator=(const RequestLoops&) = delete;

    // Serves requests on the calling thread and on `count - 1` more threads
    // until stop() or the unmount; returns once every loop has stopped:
    // 0, or the negative errno of a failed read.
    int run(unsigned count);

    // From any other thread: every loop finishes the request it holds, then
    // stops. Returns once none is inside a request any more.
    void stop();

    [[nodiscard]] bool stop_requested() const { return stop_.load(); }

    // Installs the empty kStopLoopSignal handler (once per process).
    static void install_signal_handler();

private:
    struct Loop {
        pthread_t thread;
        bool running;
    };
    int serve(std::size_t index);
    std::size_t register_current_thread();

    fuse_session* session_;
    std::atomic<bool> stop_{false};
    std::mutex mu_;  // guards loops_: a loop's thread is signalled only while it runs
    std::vector<Loop> loops_;
};

// The signals that stop the daemon, blocked in the calling thread (and so in
// every thread it starts afterwards) from construction on.
sigset_t block_stop_signals();

// One thread that takes SIGTERM/SIGINT/SIGHUP (kept blocked everywhere by
// block_stop_signals) and calls `on_signal` with the signal, once.
class StopSignalWaiter {
public:
    StopSignalWaiter(sigset_t signals, std::function<void(int)> on_signal);
    ~StopSignalWaiter();  // ends the waiter if no signal came
    StopSignalWaiter(const StopSignalWaiter&) = delete;
    StopSignalWaiter& operator=(const StopSignalWaiter&) = delete;

private:
    std::atomic<bool> closing_{false};
    std::thread thread_;
};

}  // namespace procview
