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

void SetupWorker::run(Job job) {
    {
        std::lock_guard lock(mu_);
        if (running_ && !stopping_) {
            queue_.push_back(std::move(job));
            wake_.notify_one();
            return;
        }
    }
    job();
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

void SetupWorker::loop() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mu_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and everything queued has run
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        job();
    }
}

}  // namespace procview
