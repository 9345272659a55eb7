// Runs the slow part of a request off the request loop.
//
// The loop is single-threaded (the fastest here), so whatever one request
// spends, every reader queued behind it waits for. Most of a request is cheap
// once its reader's container is known; finding a container for the first
// time is not (a walk of /proc, ~20 cgroup opens). Those requests continue on
// this thread and reply from it, and the loop goes on serving everyone else.
//
// Jobs carry a key (the reader's pid namespace). Each key has its own queue
// and the worker takes one job from each key in turn, so a namespace that
// floods it with first reads delays another namespace's first read by at
// most one job per busy namespace. Queues are bounded (max_per_key jobs per
// key, max_total in all): run() refuses a job past them and the caller
// answers the request itself (an error, never a guess). Within a key, jobs
// run in the order given. Each one owes the kernel a reply, so stop() runs
// every queued job before it returns, and run() after stop() (or before
// start()) runs the job on the caller's thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace procview {

class SetupWorker {
public:
    using Job = std::function<void()>;
    static constexpr std::size_t kDefaultMaxPerKey = 256;
    static constexpr std::size_t kDefaultMaxTotal = 4096;

    explicit SetupWorker(std::size_t max_per_key = kDefaultMaxPerKey, std::size_t max_total = kDefaultMaxTotal)
        : max_per_key_(max_per_key), max_total_(max_total) {}
    ~SetupWorker();
    SetupWorker(const SetupWorker&) = delete;
    SetupWorker& operator=(const SetupWorker&) = delete;

    // The thread inherits the caller's signal mask.
    void start();
    // Queues `job` under `key`, or runs it here when not started. False (and
    // `job` dropped unrun) when the key's queue or all queues are full.
    bool run(Job job, uint64_t key = 0);
    // Runs what is queued, then joins.
    void stop();

private:
    void loop();
    bool next(Job& job);  // with mu_ held

    const std::size_t max_per_key_;
    const std::size_t max_total_;
    std::mutex mu_;
    std::condition_variable wake_;
    std::unordered_map<uint64_t, std::deque<Job>> queues_;
    std::deque<uint64_t> turns_;  // keys with queued jobs, in the order they are served
    std::size_t queued_ = 0;
    bool running_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace procview
