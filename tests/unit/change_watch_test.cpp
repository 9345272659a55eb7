// ChangeWatch and CgroupDir's kept limits, on a cgroup-like directory in a
// temp dir: a regular file raises IN_MODIFY on write just like a cgroupfs one.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "fusefs/cgroup_dir.hpp"
#include "fusefs/cgroup_layout.hpp"
#include "fusefs/change_watch.hpp"
#include "platform/fs.hpp"

using namespace procview;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/pvunit-watch.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { (void)!std::system(("rm -rf '" + path + "'").c_str()); }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path + "/" + name, std::ios::trunc) << text;
    }
};

}  // namespace

TEST_CASE("ChangeWatch: the generation moves only when a watched file is written") {
    auto watch = ChangeWatch::create();
    REQUIRE(watch);
    TempDir dir;
    dir.write("memory.max", "1000\n");
    dir.write("other", "x\n");
    auto fd = open_at(AT_FDCWD, dir.path + "/memory.max", O_RDONLY);
    REQUIRE(fd);
    REQUIRE(watch->watch(fd->get()));
    uint64_t g0 = watch->refresh();
    CHECK(watch->refresh() == g0);
    dir.write("other", "y\n");  // not watched
    CHECK(watch->refresh() == g0);
    dir.write("memory.max", "2000\n");
    uint64_t g1 = watch->refresh();
    CHECK(g1 > g0);
    CHECK(watch->refresh() == g1);
}

TEST_CASE("ChangeWatch: which files are limits that change only by a write") {
    for (auto name : {"memory.max", "memory.swap.max", "memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
                      "memory.swappiness", "cpu.max", "cpu.cfs_quota_us", "cpu.cfs_period_us"})
        CHECK(ChangeWatch::is_written_only(name));
    // Usage, statistics, and cpuset's effective list (a parent's write or CPU
    // hotplug changes it without touching the file) are always read.
    for (auto name : {"memory.current", "memory.stat", "memory.usage_in_bytes", "cpu.stat", "cpuacct.usage",
                      "cpuset.cpus.effective", "cpuset.effective_cpus", "io.stat", "cgroup.procs"})
        CHECK_FALSE(ChangeWatch::is_written_only(name));
}

TEST_CASE("CgroupDir: a written limit shows after the next refresh; usage is read every time") {
    TempDir root;
    ::mkdir((root.path + "/ctr").c_str(), 0755);
    root.write("cgroup.controllers", "memory cpu\n");
    root.write("ctr/memory.max", "268435456\n");
    root.write("ctr/memory.current", "1000\n");
    auto layout = CgroupLayout::from_directory(root.path);
    REQUIRE(layout);
    const Hierarchy* h = layout->for_controller("memory");
    REQUIRE(h);
    REQUIRE(h->changes);
    auto dir = CgroupDir::open(*h, "/ctr");
    REQUIRE(dir);
    std::string out;
    h->changes->refresh();
    REQUIRE((*dir)->read("memory.max", out));
    CHECK(out == "268435456\n");
    // Change the bytes behind the file's back (a shared mapping raises no
    // IN_MODIFY): the kept copy is served, so the limit really is not re-read.
    {
        UniqueFd rw(::open((root.path + "/ctr/memory.max").c_str(), O_RDWR | O_CLOEXEC));
        REQUIRE(rw.get() >= 0);
        void* map = ::mmap(nullptr, 10, PROT_READ | PROT_WRITE, MAP_SHARED, rw.get(), 0);
        REQUIRE(map != MAP_FAILED);
        static_cast<char*>(map)[0] = '3';
        ::munmap(map, 10);
    }
    h->changes->refresh();
    REQUIRE((*dir)->read("memory.max", out));
    CHECK(out == "268435456\n");
    // A write, then the refresh a view makes before its reads: the new limit.
    root.write("ctr/memory.max", "134217728\n");
    h->changes->refresh();
    REQUIRE((*dir)->read("memory.max", out));
    CHECK(out == "134217728\n");
    REQUIRE((*dir)->read("memory.current", out));
    CHECK(out == "1000\n");
    root.write("ctr/memory.current", "2000\n");
    REQUIRE((*dir)->read("memory.current", out));
    CHECK(out == "2000\n");
}

TEST_CASE("CgroupLayout: every hierarchy shares one ChangeWatch, so a view drains one queue") {
    TempDir root;
    for (auto c : {"memory", "cpu"}) ::mkdir((root.path + "/" + c).c_str(), 0755);
    ::mkdir((root.path + "/memory/ctr").c_str(), 0755);
    ::mkdir((root.path + "/cpu/ctr").c_str(), 0755);
    root.write("memory/ctr/memory.limit_in_bytes", "1000\n");
    root.write("cpu/ctr/cpu.cfs_quota_us", "50000\n");
    auto layout = CgroupLayout::from_directory(root.path);
    REQUIRE(layout);
    REQUIRE(layout->changes());
    const Hierarchy* memory = layout->for_controller("memory");
    const Hierarchy* cpu = layout->for_controller("cpu");
    REQUIRE(memory);
    REQUIRE(cpu);
    CHECK(memory->changes == layout->changes());
    CHECK(cpu->changes == layout->changes());
    auto mem_dir = CgroupDir::open(*memory, "/ctr");
    auto cpu_dir = CgroupDir::open(*cpu, "/ctr");
    REQUIRE(mem_dir);
    REQUIRE(cpu_dir);
    std::string out;
    layout->changes()->refresh();
    REQUIRE((*mem_dir)->read("memory.limit_in_bytes", out));
    REQUIRE((*cpu_dir)->read("cpu.cfs_quota_us", out));
    CHECK(out == "50000\n");
    // A write in one hierarchy, one refresh: both hierarchies' reads are current.
    root.write("cpu/ctr/cpu.cfs_quota_us", "100000\n");
    root.write("memory/ctr/memory.limit_in_bytes", "2000\n");
    layout->changes()->refresh();
    REQUIRE((*cpu_dir)->read("cpu.cfs_quota_us", out));
    CHECK(out == "100000\n");
    REQUIRE((*mem_dir)->read("memory.limit_in_bytes", out));
    CHECK(out == "2000\n");
}
