// The keeper outlives its Kubernetes pod (fusefs/keeper_host.hpp): started
// with PROCVIEW_KEEPER_CGROUP, it leaves the cgroup of the procviewfs that
// spawned it, so deleting that pod — the runtime SIGKILLs every process in
// the pod's cgroup, as `docker rm -f` and `runc kill --all` do — leaves the
// FUSE connection alive, and the next pod's procviewfs attaches to it.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>

#include "fusefs/keeper_socket.hpp"
#include "harness.hpp"

using namespace pvtest;

namespace {

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

std::string procs_file(const TestCgroup& cgroup) {
    return std::string(pure_v2() ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory") + cgroup.path() + "/cgroup.procs";
}

// What the runtime does to a deleted pod's container: SIGKILL to every pid
// its cgroup lists, until it lists none. The number of processes killed.
int kill_cgroup(const TestCgroup& cgroup) {
    int killed = 0;
    for (int round = 0; round < 100; ++round) {
        std::istringstream procs(read_proc_text(procs_file(cgroup)));
        bool any = false;
        for (pid_t pid; procs >> pid; any = true)
            if (::kill(pid, SIGKILL) == 0) ++killed;
        if (!any) break;
        sleep_ms(10);
    }
    return killed;
}

// procviewfs -f on `mountpoint`, started inside `pod`, its keeper told to leave for `keeper_cgroup`.
pid_t start_in_pod(const TestCgroup& pod, const std::string& mountpoint, const std::string& log_path,
                   const std::string& keeper_cgroup) {
    // The host's namespaces to join: ours (pid 1's cannot be opened in every
    // sandbox these tests run in; on a node it is the default).
    const std::string host_pid = std::to_string(::getpid());
    pid_t child = ::fork();
    if (child != 0) return child;
    try {
        pod.add(::getpid());
    } catch (...) {
        std::_Exit(21);
    }
    ::setenv("PROCVIEW_KEEPER_CGROUP", keeper_cgroup.c_str(), 1);
    ::setenv("PROCVIEW_HOST_PID", host_pid.c_str(), 1);
    exec_procviewfs(log_path, mountpoint);
}

// Whatever an assertion left: the mount, a keeper this test started, the files.
struct Cleanup {
    std::string mountpoint, log_path;
    pid_t keeper = -1;
    ~Cleanup() {
        if (keeper > 0 && ::kill(keeper, 0) == 0 && keeper_of(mountpoint) == keeper) ::kill(keeper, SIGKILL);
        ::umount2(mountpoint.c_str(), MNT_DETACH);
        ::unlink(log_path.c_str());
        ::rmdir(mountpoint.c_str());
    }
};

bool exists(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("a keeper given PROCVIEW_KEEPER_CGROUP leaves its pod's cgroup: deleting the pod leaves the mount served") {
    SKIP_UNLESS_SUPPORTED();
    TestCgroup pod(unique_name("pod"));
    char tmpl[] = "/tmp/pvit-mnt.XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    const std::string mountpoint = tmpl, log_path = mountpoint + ".pod.log";
    const std::string name = unique_name("keeper");
    Cleanup cleanup{mountpoint, log_path};
    pid_t daemon = start_in_pod(pod, mountpoint, log_path, name);
    REQUIRE(daemon > 0);
    pid_t keeper = -1;
    for (int i = 0; i < 500 && (keeper <= 0 || !mounted_at(mountpoint)); ++i) {
        sleep_ms(10);
        keeper = keeper_of(mountpoint);
    }
    std::string pod_log = read_proc_text(log_path);
    INFO(pod_log);
    REQUIRE(keeper > 0);
    cleanup.keeper = keeper;
    REQUIRE(mounted_at(mountpoint));
    const std::string want = read_proc_text(mountpoint + "/proc/meminfo");
    REQUIRE(want.rfind("MemTotal:", 0) == 0);

    // In the named cgroup right below the root of every hierarchy, none of the pod's.
    std::string cgroups;
    for (int i = 0; i < 200; ++i) {
        cgroups = read_proc_text("/proc/" + std::to_string(keeper) + "/cgroup");
        if (cgroups.find(pod.path()) == std::string::npos) break;
        sleep_ms(10);
    }
    INFO(cgroups);
    CHECK(cgroups.find(pod.path()) == std::string::npos);
    int hierarchies = 0;
    for (const auto& line : lines(cgroups)) {
        CHECK(line.ends_with(":/" + name));
        ++hierarchies;
    }
    CHECK(hierarchies >= 1);
    const std::string keeper_log = std::string(procview::kKeeperDir) + "/" + procview::mountpoint_hash(mountpoint) + ".log";
    CHECK(exists(keeper_log));

    // `docker rm -f` / pod deletion: every process of the pod's cgroup SIGKILLed.
    CHECK(kill_cgroup(pod) >= 1);
    int status = 0;
    CHECK(::waitpid(daemon, &status, 0) == daemon);
    CHECK(WIFSIGNALED(status));
    CHECK(alive(keeper));
    CHECK(mounted_at(mountpoint));
    {
        // The next pod's procviewfs attaches to the live mount.
        Daemon next({}, mountpoint);
        CHECK(read_proc_text(next.file("proc/meminfo")).rfind("MemTotal:", 0) == 0);
        CHECK(next.log().find("attached to the live mount") != std::string::npos);
        CHECK(keeper_of(mountpoint) == keeper);
        // The explicit uninstall: the keeper ends and its cgroup and log go.
        CHECK(next.unmount() == 0);
    }
    for (int i = 0; i < 200 && alive(keeper); ++i) sleep_ms(10);
    CHECK_FALSE(alive(keeper));
    CHECK_FALSE(mounted_at(mountpoint));
    CHECK_FALSE(exists(std::string(pure_v2() ? "/sys/fs/cgroup/" : "/sys/fs/cgroup/memory/") + name));
    CHECK_FALSE(exists(keeper_log));
}
