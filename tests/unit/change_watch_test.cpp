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

TEST_CASE("CgroupDir: a written limit shows on the next read; usage is read every time") {
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
    REQUIRE((*dir)->read("memory.max", out));
    CHECK(out == "268435456\n");
    root.write("ctr/memory.max", "134217728\n");
    REQUIRE((*dir)->read("memory.max", out));
    CHECK(out == "134217728\n");
    REQUIRE((*dir)->read("memory.current", out));
    CHECK(out == "1000\n");
    root.write("ctr/memory.current", "2000\n");
    REQUIRE((*dir)->read("memory.current", out));
    CHECK(out == "2000\n");
}
