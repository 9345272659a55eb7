// compute_sysinfo: what sysinfo(2) answers a container, after kernel/sys.c's
// do_sysinfo() and compat_sysinfo().
#include <cmath>
#include <limits>

#include "core/views.hpp"

namespace procview {

namespace {

uint64_t bytes_of_kb(uint64_t kb) {
    return kb > std::numeric_limits<uint64_t>::max() / 1024 ? std::numeric_limits<uint64_t>::max() : kb * 1024;
}

}  // namespace

SysinfoValues compute_sysinfo(const SysinfoInputs& in, unsigned long_bits, uint32_t page_size) {
    SysinfoValues out;
    // do_sysinfo: tv_sec + (tv_nsec ? 1 : 0).
    double up = in.uptime_seconds > 0 ? in.uptime_seconds : 0;
    out.uptime = static_cast<int64_t>(std::ceil(up));
    // get_avenrun(loads, 0, SI_LOAD_SHIFT - FSHIFT).
    for (std::size_t i = 0; i < 3; ++i) out.loads[i] = in.avenrun[i] << (kSiLoadShift - LoadAverage::kFracBits);
    out.procs = static_cast<uint16_t>(std::min<unsigned>(in.tasks, std::numeric_limits<uint16_t>::max()));
    const MeminfoAmounts& m = in.memory;
    out.totalram = bytes_of_kb(m.mem_total_kb);
    out.freeram = bytes_of_kb(m.mem_free_kb);
    out.sharedram = bytes_of_kb(m.shmem_kb);
    out.bufferram = bytes_of_kb(m.buffers_kb);
    out.totalswap = bytes_of_kb(m.swap_total_kb);
    out.freeswap = bytes_of_kb(m.swap_free_kb);
    out.mem_unit = 1;
    if (long_bits >= 64) return out;
    // compat_sysinfo: amounts that do not fit 32 bits are given in pages.
    const uint64_t limit = (uint64_t{1} << long_bits) - 1;
    if (out.totalram <= limit && out.totalswap <= limit) return out;
    unsigned shift = 0;
    while ((uint64_t{1} << shift) < page_size) ++shift;
    for (uint64_t* v : {&out.totalram, &out.freeram, &out.sharedram, &out.bufferram, &out.totalswap, &out.freeswap,
                        &out.totalhigh, &out.freehigh})
        *v >>= shift;
    out.mem_unit = page_size;
    return out;
}

}  // namespace procview
