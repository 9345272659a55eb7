#include "core/cgroup_files.hpp"

#include <doctest/doctest.h>

#include "fixtures.hpp"

using namespace procview;
using procview::test::read_fixture;

namespace {
const std::string kCtr1 = "v2/cgroup/kubepods/pod1/ctr1/";
const std::string kV1Memory = "v1/cgroup/memory/pvfx/";
}  // namespace

TEST_CASE("parse_memory_limit: bytes, max and the v1 unlimited sentinel") {
    CHECK(parse_memory_limit(read_fixture(kCtr1 + "memory.max")).value() == 268435456u);
    CHECK(parse_memory_limit(read_fixture("v2/cgroup/kubepods/pod1/memory.max")).value() == 536870912u);
    CHECK(parse_memory_limit(read_fixture("v2/cgroup/idle/memory.max")).value() == std::nullopt);
    CHECK(parse_memory_limit(read_fixture(kV1Memory + "memory.limit_in_bytes")).value() == 268435456u);
    // 2^63 − 4096: PAGE_COUNTER_MAX pages, v1's "no limit"
    CHECK(parse_memory_limit(read_fixture(kV1Memory + "memory.memsw.limit_in_bytes")).value() == std::nullopt);
    CHECK(parse_memory_limit("9223372036854710272\n").value() == std::nullopt);  // the same on 64 KiB pages
    CHECK(parse_memory_limit("0\n").value() == 0u);
    for (const char* bad : {"", "\n", "-1", "maxx", "12 kB", "1e9"}) {
        CAPTURE(bad);
        auto r = parse_memory_limit(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().errnum == EINVAL);
    }
}

TEST_CASE("parse_single_counter") {
    CHECK(parse_single_counter(read_fixture(kCtr1 + "memory.current")).value() == 63307776u);
    CHECK(parse_single_counter(read_fixture("v1/cgroup/cpuacct/pvfx/cpuacct.usage")).value() == 291883019u);
    CHECK(parse_single_counter(read_fixture(kV1Memory + "memory.swappiness")).value() == 60u);
    CHECK_FALSE(parse_single_counter(""));
    CHECK_FALSE(parse_single_counter("-5"));
    CHECK_FALSE(parse_single_counter("12\n13\n"));
}

TEST_CASE("parse_memory_stat v2 reads the hierarchical v2 keys") {
    auto stat = parse_memory_stat(read_fixture(kCtr1 + "memory.stat"), CgroupVersion::v2);
    REQUIRE(stat);
    CHECK(stat->anon == 53248u);
    CHECK(stat->file == 62914560u);
    CHECK(stat->shmem == 62914560u);
    CHECK(stat->kernel_stack == 16384u);
    CHECK(stat->pagetables == 20480u);
    CHECK(stat->sec_pagetables == 0u);
    CHECK(stat->inactive_anon == 62963712u);
    CHECK(stat->active_anon == 4096u);
    CHECK(stat->inactive_file == 0u);
    CHECK(stat->active_file == 0u);
    CHECK(stat->slab_reclaimable == 145440u);
    CHECK(stat->slab_unreclaimable == 16768u);
    CHECK(stat->slab == 162208u);
    CHECK(stat->swapcached == 0u);
    CHECK_FALSE(stat->hierarchical_memory_limit);
}

TEST_CASE("parse_memory_stat v1 reads total_* and hierarchical limits") {
    auto stat = parse_memory_stat(read_fixture(kV1Memory + "memory.stat"), CgroupVersion::v1);
    REQUIRE(stat);
    CHECK(stat->file == 63074304u);        // total_cache
    CHECK(stat->anon == 0u);               // total_rss
    CHECK(stat->shmem == 62914560u);       // total_shmem
    CHECK(stat->file_dirty == 4096u);      // total_dirty
    CHECK(stat->inactive_anon == 62914560u);
    CHECK(stat->inactive_file == 28672u);
    CHECK(stat->active_file == 131072u);
    CHECK(stat->hierarchical_memory_limit == 268435456u);
    CHECK_FALSE(stat->hierarchical_memsw_limit);  // 9223372036854771712 = unlimited
    CHECK_FALSE(stat->slab);                      // v1 does not report slab
    CHECK_FALSE(stat->kernel_stack);
}

TEST_CASE("parse_memory_stat: the v1 local keys are not the hierarchical ones") {
    auto stat = parse_memory_stat("cache 100\ntotal_cache 300\nrss 5\n", CgroupVersion::v1);
    REQUIRE(stat);
    CHECK(stat->file == 300u);
    CHECK_FALSE(stat->anon);
}

TEST_CASE("parse_memory_stat: unknown keys ignored, negatives read as 0, garbage rejected") {
    auto stat = parse_memory_stat("anon 10\nsomething_new 5\nfile -4096\n", CgroupVersion::v2);
    REQUIRE(stat);
    CHECK(stat->anon == 10u);
    CHECK(stat->file == 0u);

    auto bad = parse_memory_stat("anon 10\nfile\n", CgroupVersion::v2);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().errnum == EINVAL);
    CHECK(bad.error().message.find("memory.stat line 2") != std::string::npos);
    CHECK_FALSE(parse_memory_stat("anon ten\n", CgroupVersion::v2));
    CHECK_FALSE(parse_memory_stat("anon 1 2\n", CgroupVersion::v2));
}

TEST_CASE("parse_cpu_max") {
    CHECK(parse_cpu_max(read_fixture(kCtr1 + "cpu.max")).value() == CpuQuota{150000, 100000});
    CHECK(parse_cpu_max(read_fixture("v2/cgroup/kubepods/pod1/cpu.max")).value() == CpuQuota{200000, 100000});
    CHECK(parse_cpu_max(read_fixture("v2/cgroup/idle/cpu.max")).value() == std::nullopt);
    CHECK(parse_cpu_max("max\n").value() == std::nullopt);
    for (const char* bad : {"", "150000", "150000 0", "abc 100000", "1 2 3", "-1 100000", "max abc"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_cpu_max(bad));
    }
}

TEST_CASE("parse_cfs_quota") {
    CHECK(parse_cfs_quota(read_fixture("v1/cgroup/cpu/pvfx/cpu.cfs_quota_us"),
                          read_fixture("v1/cgroup/cpu/pvfx/cpu.cfs_period_us"))
              .value() == CpuQuota{150000, 100000});
    CHECK(parse_cfs_quota("-1\n", "100000\n").value() == std::nullopt);
    CHECK(parse_cfs_quota("-1\n", "garbage").value() == std::nullopt);  // no quota: the period does not matter
    CHECK_FALSE(parse_cfs_quota("-2\n", "100000\n"));
    CHECK_FALSE(parse_cfs_quota("50000\n", "0\n"));
    CHECK_FALSE(parse_cfs_quota("x\n", "100000\n"));
}

TEST_CASE("parse_cpu_stat_usage") {
    auto usage = parse_cpu_stat_usage(read_fixture(kCtr1 + "cpu.stat"));
    REQUIRE(usage);
    CHECK(usage->user_ns == 1993873000u);
    CHECK(usage->system_ns == 253254000u);
    CHECK(parse_cpu_stat_usage("usage_usec 42\nnr_periods 0\n").value() == CpuUsage{42000, 0});
    CHECK_FALSE(parse_cpu_stat_usage("nr_periods 0\n"));
    CHECK_FALSE(parse_cpu_stat_usage("usage_usec x\n"));
}

TEST_CASE("parse_cpuacct_usage_all is indexed by host CPU") {
    auto per_cpu = parse_cpuacct_usage_all(read_fixture("v1/cgroup/cpuacct/pvfx/cpuacct.usage_all"));
    REQUIRE(per_cpu);
    REQUIRE(per_cpu->size() == 2);
    CHECK((*per_cpu)[0] == CpuUsage{236000000, 8000000});
    CHECK((*per_cpu)[1] == CpuUsage{12000000, 36000000});

    auto gaps = parse_cpuacct_usage_all("cpu user system\n0 1 2\n3 4 5\n");
    REQUIRE(gaps);
    REQUIRE(gaps->size() == 4);
    CHECK((*gaps)[2] == CpuUsage{});
    CHECK((*gaps)[3] == CpuUsage{4, 5});

    CHECK_FALSE(parse_cpuacct_usage_all(""));
    CHECK_FALSE(parse_cpuacct_usage_all("0 1 2\n"));                       // no header
    CHECK_FALSE(parse_cpuacct_usage_all("cpu user system\n0 1\n"));        // short line
    CHECK_FALSE(parse_cpuacct_usage_all("cpu user system\n99999 1 2\n"));  // absurd CPU
}

TEST_CASE("parse_io_stat") {
    CHECK(parse_io_stat(read_fixture(kCtr1 + "io.stat")).value().empty());
    auto io = parse_io_stat(
        "254:0 rbytes=1048576 wbytes=4096 rios=12 wios=1 dbytes=0 dios=0\n"
        "7:0 rbytes=512 wbytes=0 rios=1 wios=0 dbytes=0 dios=0 cost.vrate=100.00\n");
    REQUIRE(io);
    REQUIRE(io->size() == 2);
    CHECK((*io)[0].major == 7);  // sorted
    CHECK((*io)[0].read_bytes == 512u);
    CHECK((*io)[1].major == 254);
    CHECK((*io)[1].minor == 0);
    CHECK((*io)[1].read_bytes == 1048576u);
    CHECK((*io)[1].write_bytes == 4096u);
    CHECK((*io)[1].read_ios == 12u);
    CHECK((*io)[1].write_ios == 1u);
    CHECK_FALSE((*io)[1].read_ms);
    CHECK_FALSE(parse_io_stat("sda rbytes=1\n"));
    CHECK_FALSE(parse_io_stat("8:0 rbytes=x\n"));
    CHECK_FALSE(parse_io_stat("8:0 garbage\n"));
}

TEST_CASE("parse_blkio merges the recursive files per device") {
    auto empty = parse_blkio(read_fixture("v1/cgroup/blkio/pvfx/blkio.throttle.io_serviced_recursive"),
                             read_fixture("v1/cgroup/blkio/pvfx/blkio.throttle.io_service_bytes_recursive"));
    REQUIRE(empty);
    CHECK(empty->empty());

    auto io = parse_blkio(
        "254:0 Read 10\n254:0 Write 3\n254:0 Sync 13\n254:0 Async 0\n254:0 Discard 1\n254:0 Total 14\n"
        "8:0 Read 2\n8:0 Write 0\n8:0 Sync 2\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 2\nTotal 16\n",
        "254:0 Read 40960\n254:0 Write 8192\n254:0 Sync 49152\n254:0 Async 0\n254:0 Discard 4096\n"
        "254:0 Total 53248\nTotal 53248\n",
        std::string_view("254:0 Read 7000000\n254:0 Write 2500000\n254:0 Total 9500000\nTotal 9500000\n"));
    REQUIRE(io);
    REQUIRE(io->size() == 2);
    CHECK((*io)[0].major == 8);
    CHECK((*io)[0].read_ios == 2u);
    CHECK_FALSE((*io)[0].read_ms);
    const DeviceIo& vda = (*io)[1];
    CHECK(vda.read_ios == 10u);
    CHECK(vda.write_ios == 3u);
    CHECK(vda.discard_ios == 1u);
    CHECK(vda.read_bytes == 40960u);
    CHECK(vda.write_bytes == 8192u);
    CHECK(vda.discard_bytes == 4096u);
    CHECK(vda.read_ms == 7u);
    CHECK(vda.write_ms == 2u);

    auto bad = parse_blkio("254:0 Read ten\n", "");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("io_serviced_recursive line 1") != std::string::npos);
}

TEST_CASE("parse_proc_pid_cgroup: v2") {
    auto m = parse_proc_pid_cgroup(read_fixture("v2/proc/133/cgroup"));
    REQUIRE(m);
    CHECK(m->unified == "/kubepods/pod1/ctr1");
    CHECK(m->controllers.empty());
}

TEST_CASE("parse_proc_pid_cgroup: hybrid v1 with an empty unified hierarchy") {
    auto m = parse_proc_pid_cgroup(read_fixture("v1/proc/4065/cgroup"));
    REQUIRE(m);
    CHECK(m->unified == "/");
    CHECK(m->controllers.at("memory") == "/pvfx");
    CHECK(m->controllers.at("cpu") == "/pvfx");
    CHECK(m->controllers.at("cpuacct") == "/pvfx");
    CHECK(m->controllers.at("name=systemd") == "/");
    CHECK(m->controllers.at("freezer") == "/");
    CHECK(m->controllers.size() == 9);
}

TEST_CASE("parse_proc_pid_cgroup: pure v1 with co-mounted controllers and ':' in a path") {
    auto m = parse_proc_pid_cgroup(
        "12:cpu,cpuacct:/docker/abc\n"
        "11:memory:/docker/abc:weird\n"
        "1:name=systemd:/system.slice/docker-abc.scope\n");
    REQUIRE(m);
    CHECK_FALSE(m->unified);
    CHECK(m->controllers.at("cpu") == "/docker/abc");
    CHECK(m->controllers.at("cpuacct") == "/docker/abc");
    CHECK(m->controllers.at("memory") == "/docker/abc:weird");
    CHECK(m->controllers.at("name=systemd") == "/system.slice/docker-abc.scope");
}

TEST_CASE("parse_proc_pid_cgroup then strip_init_scope: a systemd container's init") {
    // systemd inside a container moves itself into init.scope; the container's cgroup is the parent.
    auto m = parse_proc_pid_cgroup("0::/machine.slice/libpod-abc.scope/init.scope\n");
    REQUIRE(m);
    CHECK(strip_init_scope(*m->unified) == "/machine.slice/libpod-abc.scope");
    auto host_init = parse_proc_pid_cgroup("0::/init.scope\n");
    REQUIRE(host_init);
    CHECK(strip_init_scope(*host_init->unified) == "/");
    auto v1 = parse_proc_pid_cgroup("1:name=systemd:/docker/abc/init.scope\n2:memory:/docker/abc\n");
    REQUIRE(v1);
    CHECK(strip_init_scope(v1->controllers.at("name=systemd")) == "/docker/abc");
}

TEST_CASE("parse_proc_pid_cgroup rejects garbage") {
    for (const char* bad : {"garbage\n", "0:/x\n", "x::/a\n", "0::\n", "1:memory\n"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_proc_pid_cgroup(bad));
    }
}

TEST_CASE("strip_init_scope") {
    CHECK(strip_init_scope("/a/b/init.scope") == "/a/b");
    CHECK(strip_init_scope("/init.scope") == "/");
    CHECK(strip_init_scope("/a/b") == "/a/b");
    CHECK(strip_init_scope("/a/xinit.scope") == "/a/xinit.scope");
    CHECK(strip_init_scope("/init.scope/child") == "/init.scope/child");
    CHECK(strip_init_scope("/") == "/");
}

TEST_CASE("parse_proc_pid_stat: real file") {
    auto stat = parse_proc_pid_stat(read_fixture("v2/proc/133/stat"));
    REQUIRE(stat);
    CHECK(stat->pid == 133);
    CHECK(stat->state == 'S');
    CHECK(stat->ppid == 1);
    CHECK(stat->num_threads == 1u);
    CHECK(stat->start_ticks == 413u);

    auto v1 = parse_proc_pid_stat(read_fixture("v1/proc/4065/stat"));
    REQUIRE(v1);
    CHECK(v1->pid == 4065);
    CHECK(v1->ppid == 4060);
    CHECK(v1->start_ticks == 69669u);
}

TEST_CASE("parse_proc_pid_stat: a comm holding ') (' and spaces ends at the last ')'") {
    auto stat = parse_proc_pid_stat(
        "4242 (evil) (x) S 1 2) R 77 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 7 0 123456 1000 10 "
        "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n");
    REQUIRE(stat);
    CHECK(stat->pid == 4242);
    CHECK(stat->state == 'R');
    CHECK(stat->ppid == 77);
    CHECK(stat->num_threads == 7u);
    CHECK(stat->start_ticks == 123456u);
}

TEST_CASE("parse_proc_pid_stat rejects garbage") {
    CHECK_FALSE(parse_proc_pid_stat(""));
    CHECK_FALSE(parse_proc_pid_stat("133 sleep S 1"));
    CHECK_FALSE(parse_proc_pid_stat("133 (sleep) S 1 0 0"));  // truncated
    CHECK_FALSE(parse_proc_pid_stat("x (sleep) S 1 0 0 0 -1 4194304 62 0 0 0 0 0 0 0 20 0 1 0 413 2314240"));
    CHECK_FALSE(parse_proc_pid_stat("133 (sleep) S 1 0 0 0 -1 4194304 62 0 0 0 0 0 0 0 20 0 x 0 413 2314240"));
}

TEST_CASE("parse_status_tgid") {
    CHECK(parse_status_tgid(read_fixture("v2/proc/133/status")).value() == 133);
    // A thread's status names its process.
    CHECK(parse_status_tgid("Name:\tgo\nUmask:\t0022\nState:\tS\nTgid:\t4065\nNgid:\t0\nPid:\t4071\n").value() == 4065);
    CHECK(!parse_status_tgid("Name:\tsh\nPid:\t1\n").ok());
    CHECK(!parse_status_tgid("Tgid:\t0\n").ok());
    CHECK(!parse_status_tgid("Tgid:\tx1\n").ok());
}

TEST_CASE("parse_status_nspid") {
    CHECK(parse_status_nspid(read_fixture("v2/proc/133/status")).value() == std::vector<pid_t>{133});
    CHECK(parse_status_nspid("Name:\tsh\nNSpid:\t4065\t1\nNSpgid:\t1\n").value() == std::vector<pid_t>{4065, 1});
    CHECK_FALSE(parse_status_nspid("Name:\tsh\n"));
    CHECK_FALSE(parse_status_nspid("NSpid:\t\n"));
    CHECK_FALSE(parse_status_nspid("NSpid:\t12 x\n"));
}
