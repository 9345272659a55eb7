// Open files and directories by handle, and the budget they are charged to.
#pragma once

#include <sys/random.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace procview {

// Open files and directories by 64-bit handle (FUSE's fh): the instance's
// random 64-bit nonce plus a 64-bit counter. The kernel keeps handles across a
// daemon restart (it does not know the daemon changed), so a handle this
// instance does not know is an orphan from a previous instance, not memory to
// dereference: the caller re-creates its state and adopts it under that
// handle. Two instances' handles collide only if their ranges [nonce,
// nonce + opens) overlap (odds ~ opens / 2^64), and add() never reuses a
// handle that is live (adopted, or reached again after 2^64 opens).
template <class T>
class HandleTable {
public:
    HandleTable() : nonce_(random_nonce()) {}
    // Tests only: a chosen nonce and counter (to reach the wrap point).
    HandleTable(uint64_t nonce, uint64_t next) : nonce_(nonce), next_(next) {}

    uint64_t add(std::unique_ptr<T> item) {
        std::lock_guard lock(mu_);
        uint64_t handle;
        do handle = nonce_ + next_++;  // unsigned: wraps modulo 2^64
        while (handle == 0 || items_.contains(handle));
        items_.emplace(handle, std::move(item));
        return handle;
    }
    // Keeps an entry already there (an orphan adopted by a concurrent read).
    void adopt(uint64_t handle, std::unique_ptr<T> item) {
        std::lock_guard lock(mu_);
        items_.try_emplace(handle, std::move(item));
    }
    // Shared ownership keeps an entry alive while a concurrent RELEASE removes it.
    std::shared_ptr<T> find(uint64_t handle) {
        std::lock_guard lock(mu_);
        auto it = items_.find(handle);
        return it == items_.end() ? nullptr : it->second;
    }
    void remove(uint64_t handle) {
        std::shared_ptr<T> doomed;  // destroyed after the lock is released (declared before it)
        std::lock_guard lock(mu_);
        if (auto it = items_.find(handle); it != items_.end()) {
            doomed = std::move(it->second);
            items_.erase(it);
        }
    }
    std::size_t size() {
        std::lock_guard lock(mu_);
        return items_.size();
    }

private:
    static uint64_t random_nonce() {
        uint64_t nonce = 0;
        if (::getrandom(&nonce, sizeof nonce, 0) != sizeof nonce)
            nonce = (static_cast<uint64_t>(::getpid()) << 32) ^ 0x5eed5eed5eedULL;
        return nonce;
    }

    uint64_t nonce_;
    uint64_t next_ = 1;
    std::mutex mu_;
    std::unordered_map<uint64_t, std::shared_ptr<T>> items_;
};

// Open handles (files and directories) per owner (a container, or the host's
// readers together) and in all, with caps: one container cannot make the
// daemon hold more than per_owner of them, nor all together more than total.
class HandleBudget {
public:
    struct Count {
        std::atomic<std::size_t> open{0};
        std::atomic<bool> refused{false};  // a refusal was logged for this owner
    };
    // Held by an open handle; gives its place back when destroyed. Holding it
    // keeps the owner (and its Count) alive.
    class Charge {
    public:
        Charge() = default;
        Charge(std::shared_ptr<Count> owner, std::atomic<std::size_t>* total) : owner_(std::move(owner)), total_(total) {}
        Charge(Charge&& o) noexcept : owner_(std::move(o.owner_)), total_(std::exchange(o.total_, nullptr)) {}
        Charge& operator=(Charge&& o) noexcept {
            release();
            owner_ = std::move(o.owner_);
            total_ = std::exchange(o.total_, nullptr);
            return *this;
        }
        ~Charge() { release(); }

    private:
        void release() {
            if (!total_) return;
            owner_->open.fetch_sub(1, std::memory_order_relaxed);
            total_->fetch_sub(1, std::memory_order_relaxed);
            total_ = nullptr;
            owner_.reset();
        }
        std::shared_ptr<Count> owner_;
        std::atomic<std::size_t>* total_ = nullptr;
    };
    enum class Refused { none, owner_full, total_full };

    HandleBudget(std::size_t per_owner, std::size_t total) : per_owner_(per_owner), total_cap_(total) {}
    // A charge to `owner`, or why there is none. `force` charges past the caps
    // (an orphan the kernel already holds open after a restart).
    Refused take(std::shared_ptr<Count> owner, Charge& out, bool force = false) {
        std::size_t mine = owner->open.fetch_add(1, std::memory_order_relaxed);
        std::size_t all = total_.fetch_add(1, std::memory_order_relaxed);
        out = Charge(std::move(owner), &total_);
        if (force) return Refused::none;
        if (mine >= per_owner_ || all >= total_cap_) {
            out = Charge();  // gives both back
            return mine >= per_owner_ ? Refused::owner_full : Refused::total_full;
        }
        return Refused::none;
    }
    [[nodiscard]] std::size_t total() const { return total_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::size_t per_owner() const { return per_owner_; }
    [[nodiscard]] std::size_t total_cap() const { return total_cap_; }

private:
    std::size_t per_owner_;
    std::size_t total_cap_;
    std::atomic<std::size_t> total_{0};
};

}  // namespace procview
