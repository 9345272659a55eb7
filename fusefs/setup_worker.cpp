#include "fusefs/setup_worker.hpp"

namespace procview {

SetupWorker::~SetupWorker() { stop(); }

void SetupWorker::start() {
    std::lock_guard lock(mu_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
    thread_ = std::thread([this] { loop(); });
}

bool SetupWorker::run(Job job, uint64_t key) {
    {
        std::lock_guard lock(mu_);
        if (running_ && !stopping_) {
            auto& queue = queues_[key];
            if (queue.size() >= max_per_key_ || queued_ >= max_total_) {
                if (queue.empty()) queues_.erase(key);
                return false;
            }
            if (queue.empty()) turns_.push_back(key);
            queue.push_back(std::move(job));
            ++queued_;
            wake_.notify_one();
            return true;
        }
    }
    job();
    return true;
}

void SetupWorker::stop() {
    {
        std::lock_guard lock(mu_);
        if (!running_) return;
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
    std::lock_guard lock(mu_);
    running_ = false;
}

bool SetupWorker::next(Job& job) {
    if (turns_.empty()) return false;
    uint64_t key = turns_.front();
    turns_.pop_front();
    auto it = queues_.find(key);
    job = std::move(it->second.front());
    it->second.pop_front();
    --queued_;
    if (it->second.empty())
        queues_.erase(it);
    else
        turns_.push_back(key);  // its next job waits for one of every other key's
    return true;
}

void SetupWorker::loop() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mu_);
            wake_.wait(lock, [this] { return stopping_ || !turns_.empty(); });
            if (!next(job)) return;  // stopping, and everything queued has run
        }
        job();
    }
}

}  // namespace procview
