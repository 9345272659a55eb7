// Every fuzz target, as one list: the libFuzzer binaries (one per target,
// PROCVIEW_FUZZ=ON) and the replay driver (every build) are generated from it.
// A target takes the raw input, returns 0, and crashes (FUZZ_CHECK) on a
// broken invariant.
#pragma once

#include <cstddef>
#include <cstdint>

// X(name): fuzz_<name> in targets_*.cpp; corpus in corpus/<name>/, crash
// inputs kept in regressions/<name>/.
#define PROCVIEW_FUZZ_TARGETS(X) \
    X(cgroup_memory_stat)        \
    X(cgroup_scalars)            \
    X(cgroup_cpu_usage)          \
    X(cgroup_io)                 \
    X(proc_pid)                  \
    X(cpuset)                    \
    X(proc_meminfo)              \
    X(proc_cpuinfo)              \
    X(proc_stat)                 \
    X(proc_diskstats)            \
    X(stat_record)               \
    X(config)                    \
    X(oci_state)                 \
    X(oci_bundle)                \
    X(shim_args)                 \
    X(shim_spec)                 \
    X(render_memory)             \
    X(render_cpu)                \
    X(render_misc)               \
    X(render_vmstat)

namespace procview::fuzz {
#define PROCVIEW_DECLARE_FUZZ_TARGET(name) int fuzz_##name(const uint8_t* data, std::size_t size);
PROCVIEW_FUZZ_TARGETS(PROCVIEW_DECLARE_FUZZ_TARGET)
#undef PROCVIEW_DECLARE_FUZZ_TARGET
}  // namespace procview::fuzz
