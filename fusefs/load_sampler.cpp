#include "fusefs/load_sampler.hpp"

namespace procview {

LoadSampler::LoadSampler(ContainerRegistry& registry, ViewEngine& engine, bool sample_load)
    : registry_(registry), engine_(engine), sample_load_(sample_load) {}

LoadSampler::~LoadSampler() { stop(); }

void LoadSampler::start() { thread_ = std::thread([this] { run(); }); }

void LoadSampler::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void LoadSampler::run() {
    auto next = std::chrono::steady_clock::now();
    int rounds = 0;
    for (;;) {
        next += std::chrono::milliseconds(kIntervalMs);
        {
            std::unique_lock lock(mu_);
            if (wake_.wait_until(lock, next, [this] { return stopping_; })) return;
        }
        int64_t now = monotonic_ms();
        auto recent = registry_.recently_read(now, kTrackWindowMs);
        if (sample_load_)
            for (auto& c : recent) engine_.sample_load(*c);
        registry_.recheck_memberships(recent, now);
        if (++rounds % 6 == 0) {
            registry_.sweep(now, kForgetAfterMs);
            engine_.prune_stat_records();
        }
    }
}

}  // namespace procview
