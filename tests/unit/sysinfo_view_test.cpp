// compute_sysinfo and meminfo_amounts: sysinfo(2) says what /proc says.
#include <doctest/doctest.h>

#include <map>

#include "core/views.hpp"
#include "fixtures.hpp"

using namespace procview;
using procview::test::read_fixture;

namespace {

std::vector<MeminfoLine> host_lines(const std::string& path) {
    auto lines = parse_meminfo(read_fixture(path));
    REQUIRE(lines);
    return *lines;
}

std::map<std::string, uint64_t> values_of(const std::string& rendered) {
    auto lines = parse_meminfo(rendered);
    REQUIRE(lines);
    std::map<std::string, uint64_t> values;
    for (const auto& line : *lines) values[line.key] = line.value;
    return values;
}

// ctr1: 256 MiB under a 512 MiB pod, 60 MiB of shmem (tests/fixtures/v2/cgroup).
struct Ctr1 {
    std::map<std::string, std::string> texts;
    MemoryFiles files;
    std::string_view text(const std::string& path) { return texts.emplace(path, read_fixture(path)).first->second; }
    Ctr1() {
        const std::string root = "v2/cgroup/";
        files.stat = text(root + "kubepods/pod1/ctr1/memory.stat");
        files.usage = text(root + "kubepods/pod1/ctr1/memory.current");
        files.swap_usage = text(root + "kubepods/pod1/ctr1/memory.swap.current");
        for (const std::string dir : {"kubepods/pod1/ctr1", "kubepods/pod1", "kubepods"}) {
            files.limits.emplace_back(text(root + dir + "/memory.max"));
            files.swap_limits.emplace_back(text(root + dir + "/memory.swap.max"));
        }
    }
};

MemoryFacts facts_of(const MemoryFiles& files) {
    auto facts = memory_facts(files);
    REQUIRE(facts);
    return *facts;
}

}  // namespace

TEST_CASE("meminfo_amounts are the numbers render_meminfo prints") {
    Ctr1 fx;
    auto host = host_lines("v2/proc/meminfo");
    MemoryFacts facts = facts_of(fx.files);
    auto shown = values_of(render_meminfo(host, facts, MemoryOptions{}));
    MeminfoAmounts m = meminfo_amounts(host, facts, MemoryOptions{});
    CHECK(m.mem_total_kb == 262144u);
    CHECK(m.mem_total_kb == shown["MemTotal"]);
    CHECK(m.mem_free_kb == shown["MemFree"]);
    CHECK(m.mem_available_kb == shown["MemAvailable"]);
    CHECK(m.shmem_kb == 61440u);
    CHECK(m.shmem_kb == shown["Shmem"]);
    CHECK(m.buffers_kb == shown["Buffers"]);
    CHECK(m.swap_total_kb == shown["SwapTotal"]);
    CHECK(m.swap_free_kb == shown["SwapFree"]);

    // Shmem above a shrunk limit is clamped in the file, and so here.
    fx.files.limits[0] = std::string_view("33554432\n");
    facts = facts_of(fx.files);
    shown = values_of(render_meminfo(host, facts, MemoryOptions{}));
    m = meminfo_amounts(host, facts, MemoryOptions{});
    CHECK(m.mem_total_kb == 32768u);
    CHECK(m.shmem_kb == 32768u);
    CHECK(m.shmem_kb == shown["Shmem"]);
    CHECK(m.mem_free_kb == 0u);
}

TEST_CASE("host_meminfo_amounts reads the host's file as it is") {
    auto host = host_lines("v2/proc/meminfo");
    MeminfoAmounts m = host_meminfo_amounts(host);
    CHECK(m.mem_total_kb == 2014152u);
    CHECK(m.shmem_kb == 81072u);
    CHECK(m.buffers_kb == 0u);
    CHECK(m.swap_total_kb == 0u);
}

TEST_CASE("compute_sysinfo: a 256 MiB container, its load and uptime, on 64-bit") {
    Ctr1 fx;
    auto host = host_lines("v2/proc/meminfo");
    SysinfoInputs in;
    in.memory = meminfo_amounts(host, facts_of(fx.files), MemoryOptions{});
    // /proc/loadavg "1.50 0.25 0.00": FSHIFT 11 fixed point.
    in.avenrun = {3072, 512, 0};
    in.tasks = 7;
    in.uptime_seconds = 12.01;
    SysinfoValues v = compute_sysinfo(in);
    CHECK(v.mem_unit == 1u);
    CHECK(v.totalram == 268435456u);
    CHECK(v.freeram == (262144u - 63307776u / 1024) * 1024u);
    CHECK(v.sharedram == 62914560u);
    CHECK(v.bufferram == 0u);
    CHECK(v.totalswap == 0u);
    CHECK(v.freeswap == 0u);
    // SI_LOAD_SHIFT 16: 1.5 → 98304 (busybox uptime prints loads[i] / 65536).
    CHECK(v.loads[0] == 98304u);
    CHECK(v.loads[1] == 16384u);
    CHECK(v.loads[2] == 0u);
    CHECK(v.procs == 7u);
    CHECK(v.uptime == 13);  // rounded up, as the kernel does
    CHECK(v.totalhigh == 0u);
    CHECK(v.freehigh == 0u);

    in.uptime_seconds = 12.0;
    CHECK(compute_sysinfo(in).uptime == 12);
    in.uptime_seconds = -1;  // never negative
    CHECK(compute_sysinfo(in).uptime == 0);
}

TEST_CASE("compute_sysinfo: procs saturates at 65535, amounts never wrap") {
    SysinfoInputs in;
    in.tasks = 70000;
    in.memory.mem_total_kb = ~uint64_t{0};
    SysinfoValues v = compute_sysinfo(in);
    CHECK(v.procs == 65535u);
    CHECK(v.totalram == ~uint64_t{0});
    CHECK(v.mem_unit == 1u);
}

TEST_CASE("compute_sysinfo: a 32-bit caller gets pages once ram or swap passes 4 GiB (compat_sysinfo)") {
    SysinfoInputs in;
    in.memory = MeminfoAmounts{.mem_total_kb = 3u << 20, .mem_free_kb = 1u << 20, .mem_available_kb = 2u << 20,
                               .shmem_kb = 4, .buffers_kb = 0, .swap_total_kb = 0, .swap_free_kb = 0};
    // 3 GiB fits 32 bits: bytes, mem_unit 1.
    SysinfoValues small = compute_sysinfo(in, 32);
    CHECK(small.mem_unit == 1u);
    CHECK(small.totalram == 3221225472u);
    CHECK(small.sharedram == 4096u);

    // 8 GiB of swap does not: every amount in 4 KiB pages.
    in.memory.swap_total_kb = 8u << 20;
    in.memory.swap_free_kb = 8u << 20;
    SysinfoValues big = compute_sysinfo(in, 32);
    CHECK(big.mem_unit == 4096u);
    CHECK(big.totalram == 786432u);   // 3 GiB / 4 KiB
    CHECK(big.freeram == 262144u);
    CHECK(big.sharedram == 1u);
    CHECK(big.totalswap == 2097152u);
    CHECK(big.totalram * big.mem_unit == 3221225472u);

    // A 64-bit caller keeps bytes.
    CHECK(compute_sysinfo(in, 64).mem_unit == 1u);
    CHECK(compute_sysinfo(in, 64).totalswap == 8589934592u);
}

// ---- the runtime's message to the listener ----------------------------------

#include "core/seccomp_listener.hpp"

TEST_CASE("parse_listener_message: what runc 1.1 sends") {
    // Captured shape (REFERENCE.md "Seen here"), metadata as procview-runtime sets it.
    auto m = parse_listener_message(
        R"({"ociVersion":"1.0.2-dev","fds":["seccompFd"],"pid":4242,"metadata":"procview:web",)"
        R"("state":{"ociVersion":"1.0.2-dev","id":"web","status":"creating","pid":4242,"bundle":"/b"}})");
    REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
    CHECK(m->pid == 4242);
    CHECK(m->id == "web");
    CHECK(m->metadata == "procview:web");
    CHECK(m->name() == "procview:web");
    // No metadata: named by the state's id.
    auto bare = parse_listener_message(R"({"ociVersion":"1.0.2","fds":["seccompFd"],"pid":7,"state":{"id":"c"}})");
    REQUIRE(bare);
    CHECK(bare->name() == "c");
}

TEST_CASE("parse_listener_message: refuses what a runtime would not send") {
    for (const char* bad : {
             "", "[]", "{", R"({"fds":["seccompFd"],"pid":1,"state":{"id":"c"}})",
             R"({"ociVersion":"1","fds":[],"pid":1,"state":{"id":"c"}})",
             R"({"ociVersion":"1","fds":["seccompFd","seccompFd"],"pid":1,"state":{"id":"c"}})",
             R"({"ociVersion":"1","fds":["pidFd"],"pid":1,"state":{"id":"c"}})",
             R"({"ociVersion":"1","fds":["seccompFd"],"pid":0,"state":{"id":"c"}})",
             R"({"ociVersion":"1","fds":["seccompFd"],"pid":-5,"state":{"id":"c"}})",
             R"({"ociVersion":"1","fds":["seccompFd"],"pid":99999999999,"state":{"id":"c"}})",
             R"({"ociVersion":"1","fds":["seccompFd"],"pid":"1","state":{"id":"c"}})",
             R"({"ociVersion":"1","fds":["seccompFd"],"pid":1,"metadata":7,"state":{"id":"c"}})",
             R"({"ociVersion":"1","fds":["seccompFd"],"pid":1})",
             R"({"ociVersion":"1","fds":["seccompFd"],"pid":1,"state":{"id":3}})"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_listener_message(bad));
    }
    std::string huge = R"({"ociVersion":"1","fds":["seccompFd"],"pid":1,"state":{"id":"c","x":")" +
                       std::string(kMaxListenerMessage, 'a') + "\"}}";
    CHECK_FALSE(parse_listener_message(huge));
    std::string deep = R"({"ociVersion":"1","fds":["seccompFd"],"pid":1,"state":{"id":"c","x":)" +
                       std::string(1000, '[') + std::string(1000, ']') + "}}";
    CHECK_FALSE(parse_listener_message(deep));
}
