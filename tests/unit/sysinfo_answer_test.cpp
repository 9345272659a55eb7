// The agent's ABI choice and struct layouts (fusefs/sysinfo_answer.hpp).
#include <doctest/doctest.h>

#include <linux/audit.h>
#include <sys/sysinfo.h>

#include <cstring>

#include "fusefs/sysinfo_answer.hpp"

using namespace procview;

TEST_CASE("sysinfo_abi_bits: the native call, x32 and the 32-bit compat call; nothing else") {
#if defined(__x86_64__)
    CHECK(sysinfo_abi_bits(AUDIT_ARCH_X86_64, 99) == 64u);
    CHECK(sysinfo_abi_bits(AUDIT_ARCH_X86_64, 99 | 0x40000000) == 64u);  // x32: the 64-bit struct
    CHECK(sysinfo_abi_bits(AUDIT_ARCH_I386, 116) == 32u);
    CHECK_FALSE(sysinfo_abi_bits(AUDIT_ARCH_X86_64, 63));   // uname
    CHECK_FALSE(sysinfo_abi_bits(AUDIT_ARCH_I386, 99));
    CHECK_FALSE(sysinfo_abi_bits(AUDIT_ARCH_AARCH64, 179));
#else
    MESSAGE("SKIP: x86-64 numbers");
#endif
}

TEST_CASE("encode_sysinfo: struct sysinfo for 64-bit callers, compat_sysinfo for 32-bit ones") {
    SysinfoValues v;
    v.uptime = 42;
    v.loads = {98304, 16384, 1};
    v.totalram = 268435456;
    v.freeram = 200000000;
    v.sharedram = 4096;
    v.bufferram = 0;
    v.totalswap = 8192;
    v.freeswap = 4096;
    v.procs = 7;
    v.mem_unit = 1;
    std::string native = encode_sysinfo(v, 64);
    REQUIRE(native.size() == sizeof(struct sysinfo));
    struct sysinfo s{};
    std::memcpy(&s, native.data(), sizeof s);
    CHECK(s.uptime == 42);
    CHECK(s.loads[0] == 98304u);
    CHECK(s.loads[2] == 1u);
    CHECK(s.totalram == 268435456u);
    CHECK(s.freeram == 200000000u);
    CHECK(s.sharedram == 4096u);
    CHECK(s.totalswap == 8192u);
    CHECK(s.freeswap == 4096u);
    CHECK(s.procs == 7u);
    CHECK(s.mem_unit == 1u);

    std::string compat = encode_sysinfo(v, 32);
    REQUIRE(compat.size() == 64u);
    auto u32_at = [&](std::size_t off) {
        uint32_t x;
        std::memcpy(&x, compat.data() + off, 4);
        return x;
    };
    CHECK(u32_at(0) == 42u);          // uptime
    CHECK(u32_at(4) == 98304u);       // loads[0]
    CHECK(u32_at(16) == 268435456u);  // totalram
    CHECK(u32_at(20) == 200000000u);  // freeram
    uint16_t procs;
    std::memcpy(&procs, compat.data() + 40, 2);
    CHECK(procs == 7u);
    CHECK(u32_at(52) == 1u);          // mem_unit
}
