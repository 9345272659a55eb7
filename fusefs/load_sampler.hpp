// Samples the load of the containers being read, every 5 s like the kernel,
// and re-checks their cgroup membership (every 10 s each), so neither is
// done on the request path.
//
// Cost scales with the containers actually read, not with every cgroup on the
// host: a container is tracked from its first read and dropped once unread
// for kTrackWindow. With nothing tracked the thread wakes every 5 s to find
// nothing to do.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "fusefs/container.hpp"
#include "fusefs/view_engine.hpp"

namespace procview {

class LoadSampler {
public:
    static constexpr int64_t kIntervalMs = 5000;       // the kernel's LOAD_FREQ
    static constexpr int64_t kTrackWindowMs = 120'000; // unread this long: no more samples
    static constexpr int64_t kForgetAfterMs = 600'000; // unread this long: forget the container

    LoadSampler(ContainerRegistry& registry, ViewEngine& engine, bool sample_load);
    ~LoadSampler();
    LoadSampler(const LoadSampler&) = delete;
    LoadSampler& operator=(const LoadSampler&) = delete;

    void start();
    void stop();

private:
    void run();

    ContainerRegistry& registry_;
    ViewEngine& engine_;
    bool sample_load_;
    std::mutex mu_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace procview
