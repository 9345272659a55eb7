// Runs the slow part of a request off the request loop.
//
// The loop is single-threaded (the fastest here), so whatever one request
// spends, every reader queued behind it waits for. Most of a request is cheap
// once its reader's container is known; finding a container for the first
// time is not (a walk of /proc, ~20 cgroup opens). Those requests continue on
// this thread and reply from it, and the loop goes on serving everyone else.
//
// Jobs run in the order given. Each one owes the kernel a reply, so stop()
// runs every queued job before it returns, and run() after stop() (or before
// start()) runs the job on the caller's thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace procview {

class SetupWorker {
public:
    using Job = std::function<void()>;

    SetupWorker() = default;
    ~SetupWorker();
    SetupWorker(const SetupWorker&) = delete;
    SetupWorker& operator=(const SetupWorker&) = delete;

    // The thread inherits the caller's signal mask.
    void start();
    void run(Job job);
    // Runs what is queued, then joins.
    void stop();

private:
    void loop();

    std::mutex mu_;
    std::condition_variable wake_;
    std::deque<Job> queue_;
    bool running_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace procview
