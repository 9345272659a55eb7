// The floor under a container's /proc/stat counters (core's
// MonotonicCpuTimes), kept in a shared mapping of a small file in the stat
// record directory (stat_records.hpp): a store to it is in the page cache at
// once, so the next daemon after a kill -9 starts from every value its
// predecessor showed, at the cost of a few stores per read instead of a file
// write. Without it a counter that the floor was holding up (idle of a CPU
// its cgroup keeps busy jitters by the quota period) read lower after a
// restart.
//
// File: "pvfloor1", the CPU count (u64), then per CPU the ten CpuTimes
// fields (u64 each, /proc/stat's order). Validated when mapped: a file of
// another size or magic starts from zeros; another CPU count keeps the CPUs
// both have.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "core/result.hpp"
#include "core/views.hpp"
#include "platform/unique_fd.hpp"

namespace procview {

class CounterFloor {
public:
    // Maps dir/`name` (created 0600) with room for `cpus` CPUs.
    static Result<std::unique_ptr<CounterFloor>> map(int dir, const std::string& name, std::size_t cpus);
    ~CounterFloor();
    CounterFloor(const CounterFloor&) = delete;
    CounterFloor& operator=(const CounterFloor&) = delete;

    [[nodiscard]] std::span<CpuTimes> cpus() const { return {cpus_, count_}; }

private:
    CounterFloor(void* base, std::size_t length, std::size_t count);
    void* base_;
    std::size_t length_;
    CpuTimes* cpus_;
    std::size_t count_;
};

}  // namespace procview
