#include "fusefs/size_keeper.hpp"

namespace procview {

SizeKeeper::~SizeKeeper() { stop(); }

void SizeKeeper::start(fuse_session* session) {
    session_ = session;
    thread_ = std::thread([this] { run(); });
}

void SizeKeeper::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void SizeKeeper::short_read(fuse_ino_t ino, off_t bound) {
    std::lock_guard lock(mu_);
    if (!session_ || stopping_) return;
    if (pending_.emplace(ino, bound).second && pending_.size() == 1) wake_.notify_one();
}

void SizeKeeper::run() {
    std::unique_lock lock(mu_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
        if (stopping_) return;
        // Let the reader that got the short read finish shrinking first.
        wake_.wait_for(lock, std::chrono::milliseconds(2), [this] { return stopping_; });
        if (stopping_) return;
        auto batch = std::move(pending_);
        pending_.clear();
        lock.unlock();
        for (auto [ino, bound] : batch) {
            // The kernel extends the size only for a non-empty store. One byte
            // in the last page of the bound: content never reaches that page
            // (the bound leaves a page and more of room), so it is never read.
            char last = '\n';
            fuse_bufvec one = FUSE_BUFVEC_INIT(1);
            one.buf[0].mem = &last;
            // ENOENT: the kernel forgot the inode meanwhile; nothing to restore.
            fuse_lowlevel_notify_store(session_, ino, bound - 1, &one, FUSE_BUF_SPLICE_NONBLOCK);
        }
        lock.lock();
    }
}

}  // namespace procview
