// containers/self (fusefs/cached_views.hpp): a symlink to the directory of
// whichever process follows it, so a bind mount of containers/self/proc/…
// made by a container's init (runc init, crun's child) pins that container's
// own files. procview-runtime's mounts mode relies on it (docs/runtime.md).
#include <doctest/doctest.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace pvtest;

namespace {

// "<pid>-<start ticks>" of a running process.
std::string name_of(pid_t pid) {
    std::string stat = read_proc_text("/proc/" + std::to_string(pid) + "/stat");
    std::istringstream in(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 22 && in >> field; ++i) {}
    return std::to_string(pid) + "-" + field;
}

// readlink(2), or "ERR <errno>".
std::string link_of(const std::string& path) {
    char buf[256];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    if (n < 0) return "ERR " + std::to_string(errno);
    return std::string(buf, static_cast<std::size_t>(n));
}

int stat_path(const std::string& path, struct stat* st) { return ::stat(path.c_str(), st); }

std::vector<std::string> entries(const std::string& path) {
    std::vector<std::string> out;
    if (DIR* dir = ::opendir(path.c_str())) {
        while (auto* e = ::readdir(dir)) out.emplace_back(e->d_name);
        ::closedir(dir);
    }
    return out;
}

void check_two_containers(Daemon& d) {
    TestCgroup a(unique_name("selfA")), b(unique_name("selfB"));
    a.set_memory(256 * MiB);
    b.set_memory(128 * MiB);
    Container ca(a), cb(b);
    // One path, two readers, two views: each its own process's cgroup.
    CHECK(meminfo_kb(ca.read(d.file("containers/self/proc/meminfo")), "MemTotal") == 262144u);
    CHECK(meminfo_kb(cb.read(d.file("containers/self/proc/meminfo")), "MemTotal") == 131072u);
    CHECK(meminfo_kb(ca.read(d.file("containers/self/proc/meminfo")), "MemTotal") == 262144u);
    // Through each reader's own directory: the one a runtime's bind mount pins.
    auto names = entries(d.file("containers"));
    CHECK(std::count(names.begin(), names.end(), name_of(ca.host_pid())) == 1);
    CHECK(std::count(names.begin(), names.end(), name_of(cb.host_pid())) == 1);
    a.set_memory(64 * MiB);
    CHECK(meminfo_kb(ca.read(d.file("containers/self/proc/meminfo")), "MemTotal") == 65536u);
    CHECK(meminfo_kb(cb.read(d.file("containers/self/proc/meminfo")), "MemTotal") == 131072u);
}

}  // namespace

TEST_CASE("containers/self: two containers' processes reading one path each get their own limits") {
    SKIP_UNLESS_SUPPORTED();
    Daemon d;
    check_two_containers(d);
}

TEST_CASE("containers/self: the same from a --containers-only mount") {
    SKIP_UNLESS_SUPPORTED();
    Daemon d({"--containers-only"});
    check_two_containers(d);
}

TEST_CASE("containers/self: names the calling process (not its thread), makes nothing by itself, root only") {
    SKIP_UNLESS_SUPPORTED();
    Daemon d;
    const std::string self = d.file("containers/self");
    const std::string mine = name_of(::getpid());
    // A readlink makes no entry: only the lookup of the directory it names
    // does, within max_containers.
    CHECK(link_of(self) == mine);
    auto before = entries(d.file("containers"));
    CHECK(std::count(before.begin(), before.end(), mine) == 0);
    // A request carries the calling thread's id; the directory names its process.
    std::string from_thread;
    std::thread([&] { from_thread = link_of(self); }).join();
    CHECK(from_thread == mine);
    // In the host's pid namespace too: the test's own view (the host's when
    // the test runs in the root cgroup), the same file as its named directory.
    struct stat via_self{}, via_name{};
    REQUIRE(stat_path(d.file("containers/self/proc/meminfo"), &via_self) == 0);
    REQUIRE(stat_path(d.file("containers/" + mine + "/proc/meminfo"), &via_name) == 0);
    CHECK(via_self.st_ino == via_name.st_ino);
    // Another user: EACCES, as for every name in containers/.
    pid_t child = ::fork();
    if (child == 0) {
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) std::_Exit(200);
        std::_Exit(link_of(self) == "ERR " + std::to_string(EACCES) ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
