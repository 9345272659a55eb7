// The reader group's shared state and the reader side (reader_worker.cpp):
// what the driver (reader_group.cpp) and the helper and reader processes it
// forks have in common. Internal to procview_bench_lib.
#pragma once

#include <sys/mman.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "bench/reader_group.hpp"

namespace procview::bench::detail {

inline constexpr std::size_t kMaxFiles = 8;
inline constexpr std::int64_t kNsPerMs = 1'000'000;
inline constexpr std::int64_t kNsPerS = 1'000'000'000;

inline std::int64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * kNsPerS + ts.tv_nsec;
}

inline void sleep_until_ns(std::int64_t deadline) {
    timespec ts{static_cast<time_t>(deadline / kNsPerS), static_cast<long>(deadline % kNsPerS)};
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

// Shared between the driver and every reader (MAP_SHARED, so readers write
// their results where the driver can see them after they exit).
struct Header {
    std::atomic<std::uint32_t> ready{0};
    std::atomic<std::uint32_t> started{0};
    std::atomic<std::int64_t> start_ns{0};
};

struct Slot {
    std::atomic<std::int32_t> worker_pid{0};
    std::int32_t setup_errno = 0;
    char setup_error[200] = {};
    std::int64_t t_begin = 0;
    std::int64_t t_end = 0;
    std::uint64_t errors = 0;
    std::int32_t first_errno = 0;
    std::int32_t first_error_file = -1;
    std::uint8_t truncated = 0;
    std::uint64_t count[kMaxFiles] = {};
    std::uint64_t bytes[kMaxFiles] = {};
};

class SharedRegion {
public:
    // with_times: also keep when each read started (periodic mode, where the
    // report shows when slow reads happen).
    SharedRegion(unsigned readers, std::size_t files, std::size_t capacity, bool with_times)
        : readers_(readers), files_(files), capacity_(capacity) {
        slots_offset_ = align(sizeof(Header));
        samples_offset_ = align(slots_offset_ + sizeof(Slot) * readers);
        const std::size_t array = sizeof(std::uint64_t) * readers * files * capacity;
        times_offset_ = with_times ? align(samples_offset_ + array) : 0;
        size_ = (with_times ? times_offset_ : samples_offset_) + array;
        void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            base_ = nullptr;
            return;
        }
        base_ = static_cast<char*>(p);
        new (base_) Header();
        for (unsigned i = 0; i < readers; ++i) new (base_ + slots_offset_ + sizeof(Slot) * i) Slot();
    }
    ~SharedRegion() {
        if (base_) ::munmap(base_, size_);
    }
    SharedRegion(const SharedRegion&) = delete;
    SharedRegion& operator=(const SharedRegion&) = delete;

    [[nodiscard]] bool ok() const { return base_ != nullptr; }
    [[nodiscard]] std::size_t capacity() const { return capacity_; }
    Header& header() { return *reinterpret_cast<Header*>(base_); }
    Slot& slot(unsigned reader) { return *reinterpret_cast<Slot*>(base_ + slots_offset_ + sizeof(Slot) * reader); }
    std::uint64_t* samples(unsigned reader, std::size_t file) { return array_at(samples_offset_, reader, file); }
    // Start times (CLOCK_MONOTONIC ns) parallel to samples(); nullptr without times.
    std::uint64_t* times(unsigned reader, std::size_t file) {
        return times_offset_ == 0 ? nullptr : array_at(times_offset_, reader, file);
    }

private:
    static std::size_t align(std::size_t n) { return (n + 63) & ~std::size_t{63}; }
    std::uint64_t* array_at(std::size_t offset, unsigned reader, std::size_t file) {
        auto* all = reinterpret_cast<std::uint64_t*>(base_ + offset);
        return all + (static_cast<std::size_t>(reader) * files_ + file) * capacity_;
    }
    unsigned readers_;
    std::size_t files_;
    std::size_t capacity_;
    std::size_t slots_offset_ = 0;
    std::size_t samples_offset_ = 0;
    std::size_t times_offset_ = 0;
    std::size_t size_ = 0;
    char* base_ = nullptr;
};

// What a helper, a reader and each of its threads work from (copied into
// each: they run in forked processes and threads).
struct ReaderContext {
    const GroupOptions& options;
    SharedRegion& region;
    unsigned index;
    int go_fd;        // read end; EOF = the driver released (or abandoned) the group
    int lifeline_fd;  // read end; POLLHUP = the driver is gone
    std::vector<std::string> paths{};  // options.files with {self} expanded (reader_main)
    unsigned slot = 0;  // this thread's samples: index * threads_per_reader + its thread
};

// Sample slots of a group: one per thread of every reader.
inline unsigned total_slots(const GroupOptions& options) { return options.readers * options.threads_per_reader; }

// The helper forked per reader: cgroups (and CPU), then a new pid namespace
// whose init is the reader (or the reader itself without --pidns). Never
// returns: exits 0 once the reader is started, non-zero (with the slot's
// setup error) when set-up fails.
[[noreturn]] void helper_main(ReaderContext ctx);

}  // namespace procview::bench::detail
