// The mount outlives the daemon: kill -9, restart, takeover, stale mounts,
// refusal of foreign mountpoints, SIGTERM's hand-over, --unmount.
#include <doctest/doctest.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <sys/utsname.h>

#include <memory>
#include <optional>
#include <vector>

#include "fusefs/keeper_protocol.hpp"
#include "fusefs/keeper_socket.hpp"
#include "fusefs/session.hpp"
#include "harness.hpp"

using namespace pvtest;

namespace {

bool alive(pid_t pid) {  // a zombie is gone for our purposes
    std::string text = read_proc_text("/proc/" + std::to_string(pid) + "/stat");
    auto close = text.rfind(')');
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

struct ReadLoop {
    std::atomic<bool> stop{false};
    std::atomic<int> ok{0}, failed{0}, wrong{0};
    std::atomic<long> longest_ms{0};
    std::string last_error;  // written by the loop thread, read after join
    std::thread thread;
    ReadLoop(Container& c, const std::string& file, uint64_t want_kb, int pause_ms = 5) {
        thread = std::thread([&, file, want_kb, pause_ms] {
            while (!stop) {
                auto t0 = std::chrono::steady_clock::now();
                try {
                    auto m = c.read(file);
                    if (meminfo_kb(m, "MemTotal") == want_kb) ++ok;
                    else ++wrong;
                } catch (const std::exception& e) {
                    ++failed;
                    last_error = e.what();
                }
                long ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
                if (ms > longest_ms) longest_ms = ms;
                if (pause_ms > 0) sleep_ms(pause_ms);
            }
        });
    }
    std::string summary() {
        stop = true;
        if (thread.joinable()) thread.join();
        return "reads ok " + std::to_string(ok.load()) + ", failed " + std::to_string(failed.load()) + " (" + last_error +
               "), longest read " + std::to_string(longest_ms.load()) + " ms";
    }
    ~ReadLoop() {
        stop = true;
        if (thread.joinable()) thread.join();
    }
};

}  // namespace

TEST_CASE("kill -9 and restart: a container reading in a loop keeps working, no container touched") {
    SKIP_UNLESS_SUPPORTED();
    Daemon d;
    TestCgroup cg(unique_name("crash"));
    cg.set_memory(256 * MiB);
    Container c(cg);
    {
        ReadLoop loop(c, d.file("proc/meminfo"), 262144);
        sleep_ms(300);
        d.kill9();
        sleep_ms(400);  // the outage
        auto t0 = std::chrono::steady_clock::now();
        d.start();
        int ok_at_restart = loop.ok;
        while (loop.ok <= ok_at_restart && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10)) sleep_ms(1);
        auto recovered_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
        MESSAGE(loop.summary() << ", correct again " << recovered_ms << " ms after the restart");
        // Within 1 s of the restart; under emulation (the qemu lane sets
        // PROCVIEW_TEST_SLOW) everything runs ~10x slower.
        CHECK(recovered_ms < (env_or("PROCVIEW_TEST_SLOW", "") == "1" ? 5000 : 1000));
        CHECK(loop.failed <= 1);  // at most the one read the dead daemon was processing
        CHECK(loop.wrong == 0);
    }
    CHECK(meminfo_kb(c.read(d.file("proc/meminfo")), "MemTotal") == 262144u);
}

TEST_CASE("kill -9 under busy readers: FUSE_NOTIFY_RESEND fails no read (Linux 6.9+)") {
    SKIP_UNLESS_SUPPORTED();
    utsname uts{};
    REQUIRE(::uname(&uts) == 0);
    // Before 6.9 (Debian 12's 6.1, the v2 lane) there is no resend: the same
    // rounds measure what a kill -9 still costs there, at most the one read
    // per reader the dead daemon held.
    const bool resend = procview::release_offers_resend(uts.release);
    Daemon d;
    std::vector<std::unique_ptr<TestCgroup>> cgroups;
    std::vector<std::unique_ptr<Container>> containers;
    std::vector<std::unique_ptr<ReadLoop>> loops;
    for (int i = 0; i < 3; ++i) {
        cgroups.push_back(std::make_unique<TestCgroup>(unique_name("resend" + std::to_string(i))));
        // Roomy limits: each reader is a forked copy of this binary, and under
        // ASan freed memory stays in its quarantine (a 64 MiB limit got a tight
        // reader OOM-killed in the sanitizer lane). Below the v2 lane's 2 GiB
        // of RAM, or MemTotal would be the guest's.
        cgroups.back()->set_memory(static_cast<uint64_t>(512 + 128 * i) * MiB);
        containers.push_back(std::make_unique<Container>(*cgroups.back()));
    }
    for (int i = 0; i < 3; ++i)
        loops.push_back(std::make_unique<ReadLoop>(*containers[i], d.file("proc/meminfo"), (512 + 128 * i) * 1024u, 0));
    const int rounds = 10;
    for (int round = 0; round < rounds; ++round) {
        sleep_ms(100);
        d.kill9();
        sleep_ms(50);
        d.start();
    }
    sleep_ms(200);
    int failed = 0, wrong = 0;
    for (auto& loop : loops) {
        MESSAGE(loop->summary());
        failed += loop->failed;
        wrong += loop->wrong;
    }
    MESSAGE("Linux " << uts.release << std::string(resend ? " (FUSE_NOTIFY_RESEND)" : " (no FUSE_NOTIFY_RESEND)") << ": "
                     << rounds << " kill -9 rounds under 3 busy readers: " << failed << " failed reads");
    if (resend) CHECK(failed == 0);  // without the resend, about one read per round and reader the daemon held fails
    else CHECK(failed <= 3 * rounds);
    CHECK(wrong == 0);
}

// Every field of every "cpuN" line, in order.
std::vector<std::vector<uint64_t>> per_cpu_fields(const std::string& stat) {
    std::vector<std::vector<uint64_t>> cpus;
    for (const auto& line : lines(stat)) {
        if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] == ' ') continue;
        std::istringstream in(line.substr(line.find(' ')));
        std::vector<uint64_t> f;
        for (uint64_t v; in >> v;) f.push_back(v);
        cpus.push_back(std::move(f));
    }
    return cpus;
}

TEST_CASE("kill -9 under a busy container: no /proc/stat counter of any CPU goes down") {
    // On v1 each CPU's exact usage is split between user and system from an
    // anchor saved with the stat record (core/cpu_split.hpp): a restarted
    // daemon must compute what its predecessor showed, tick for tick. A
    // per-field floor kept only in memory let busy drop a tick here.
    SKIP_UNLESS_SUPPORTED();
    Daemon d;
    TestCgroup cg(unique_name("split"));
    cg.set_memory(512 * MiB);  // no CPU quota: every CPU shows its own usage
    Container c(cg);
    c.busy(1);           // user time
    c.sysinfo_flood(1);  // system time: both sides of the split move
    auto read_stat = [&]() -> std::optional<std::vector<std::vector<uint64_t>>> {
        try {
            return per_cpu_fields(c.read(d.file("proc/stat")));
        } catch (const std::exception&) {
            return std::nullopt;  // before 6.9 a kill -9 can fail the read the daemon held
        }
    };
    auto last = read_stat();
    REQUIRE(last);
    REQUIRE(!last->empty());
    int reads = 0, drops = 0;
    std::string first_drop;
    for (int round = 0; round < 8; ++round) {
        for (int i = 0; i < 15; ++i) {
            sleep_ms(40);
            auto now = read_stat();
            if (!now) continue;
            ++reads;
            for (std::size_t cpu = 0; cpu < now->size() && cpu < last->size(); ++cpu)
                for (std::size_t f = 0; f < (*now)[cpu].size() && f < (*last)[cpu].size(); ++f)
                    if ((*now)[cpu][f] < (*last)[cpu][f] && drops++ == 0)
                        first_drop = "cpu" + std::to_string(cpu) + " field " + std::to_string(f + 1) + ": " +
                                     std::to_string((*last)[cpu][f]) + " then " + std::to_string((*now)[cpu][f]) +
                                     " (round " + std::to_string(round) + ")";
            last = std::move(now);
        }
        d.kill9();
        d.start();
    }
    c.idle();
    MESSAGE(reads << " reads of /proc/stat across 8 kill -9 restarts of a container using user and system time: "
                  << drops << " counters went down " << first_drop);
    CHECK(reads >= 100);
    CHECK(drops == 0);
}

TEST_CASE("--takeover replaces a running instance without failed reads") {
    SKIP_UNLESS_SUPPORTED();
    Daemon d;
    TestCgroup cg(unique_name("takeover"));
    cg.set_memory(128 * MiB);
    Container c(cg);
    {
        ReadLoop loop(c, d.file("proc/meminfo"), 131072);
        sleep_ms(200);
        Daemon next({"--takeover"}, d.mountpoint());
        sleep_ms(300);
        int status = 0;
        bool old_exited = false;
        for (int i = 0; i < 100 && !old_exited; ++i) {
            old_exited = ::waitpid(d.pid(), &status, WNOHANG) == d.pid();
            if (!old_exited) sleep_ms(10);
        }
        CHECK(old_exited);
        sleep_ms(200);
        MESSAGE(loop.summary());
        // Open finding: under qemu emulation one read in flight at the
        // handover has been seen to fail with ECONNABORTED; never more.
        CHECK(loop.failed <= 1);
        CHECK(loop.wrong == 0);
        CHECK(mounted_at(d.mountpoint()));
        next.stop();
        CHECK(mounted_at(d.mountpoint()));  // handed over, not torn down
        CHECK(next.unmount() == 0);
    }
    CHECK(!mounted_at(d.mountpoint()));
}

TEST_CASE("a stale mount from a dead daemon and keeper is cleared and remounted") {
    SKIP_UNLESS_SUPPORTED();
    Daemon d;
    pid_t keeper = keeper_of(d.mountpoint());
    REQUIRE(keeper > 0);
    d.kill9();
    ::kill(keeper, SIGKILL);
    sleep_ms(100);
    struct statfs st{};
    CHECK(::statfs(d.mountpoint().c_str(), &st) != 0);
    CHECK(errno == ENOTCONN);
    d.start();
    std::ifstream in(d.file("proc/uptime"));
    std::string line;
    CHECK(std::getline(in, line));
    CHECK(!line.empty());
    CHECK(d.log().find("stale mount") != std::string::npos);
}

TEST_CASE("SIGTERM hands over: reads wait for the next daemon; --unmount removes the mount and ends the keeper") {
    SKIP_UNLESS_SUPPORTED();
    Daemon d;
    pid_t keeper = keeper_of(d.mountpoint());
    REQUIRE(keeper > 0);
    {
        // A second instance without --takeover is refused.
        std::string bin = env_or("PROCVIEWFS_BIN", PROCVIEWFS_DEFAULT_BIN);
        std::string cmd = bin + " -f " + d.mountpoint() + " >/dev/null 2>&1";
        int rc = std::system(cmd.c_str());
        CHECK(WEXITSTATUS(rc) != 0);
    }
    TestCgroup cg(unique_name("handover"));
    cg.set_memory(192 * MiB);
    Container c(cg);
    {
        ReadLoop loop(c, d.file("proc/meminfo"), 196608);
        sleep_ms(300);
        d.stop();  // systemctl stop / restart
        CHECK(mounted_at(d.mountpoint()));
        sleep_ms(400);  // the gap: reads wait in the kernel
        CHECK(mounted_at(d.mountpoint()));
        CHECK(alive(keeper));
        auto t0 = std::chrono::steady_clock::now();
        d.start();
        int ok_at_restart = loop.ok;
        while (loop.ok <= ok_at_restart && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10)) sleep_ms(1);
        auto recovered_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
        MESSAGE(loop.summary() << ", correct again " << recovered_ms << " ms after the start");
        CHECK(loop.failed == 0);  // SIGTERM, unlike kill -9, drops no request
        CHECK(loop.wrong == 0);
        CHECK(loop.longest_ms >= 300);  // the reads did wait through the gap
    }
    CHECK(keeper_of(d.mountpoint()) == keeper);
    CHECK(meminfo_kb(c.read(d.file("proc/meminfo")), "MemTotal") == 196608u);

    pid_t served_by = d.pid();
    CHECK(d.unmount() == 0);
    CHECK(!mounted_at(d.mountpoint()));
    for (int i = 0; i < 100 && (alive(keeper) || alive(served_by)); ++i) sleep_ms(10);
    CHECK_MESSAGE(!alive(keeper), "the keeper outlived --unmount");
    CHECK_MESSAGE(!alive(served_by), "the serving daemon outlived --unmount");
    CHECK(d.pid() == -1);  // it exited and was reaped
    // Nothing is left per mountpoint: not even the instance's lock file.
    std::string lock_file = "/run/procview/" + procview::mountpoint_hash(d.mountpoint()) + ".lock";
    CHECK_MESSAGE(::access(lock_file.c_str(), F_OK) != 0, lock_file << " outlived --unmount");
    CHECK(d.unmount() == 0);  // nothing left: says so, succeeds
    CHECK(d.log().find("nothing mounted at") != std::string::npos);
}

TEST_CASE("SIGTERM under load: every request loop answers what it read before it stops") {
    // libfuse's own loops drop a request read after their exit flag is set,
    // and the kernel then fails that read with ECONNABORTED. With 4 loops and
    // readers that never pause, nearly every stop lands with requests in flight.
    SKIP_UNLESS_SUPPORTED();
    Daemon d({"--threads", "4"});
    TestCgroup cg(unique_name("handover-mt"));
    cg.set_memory(1024 * MiB);  // 4 tight readers: room for ASan's quarantine in each (see above)
    std::vector<std::unique_ptr<Container>> containers;
    std::vector<std::unique_ptr<ReadLoop>> loops;
    for (int i = 0; i < 4; ++i) {
        containers.push_back(std::make_unique<Container>(cg));
        loops.push_back(std::make_unique<ReadLoop>(*containers.back(), d.file("proc/meminfo"), 1048576, 0));
    }
    constexpr int kHandovers = 6;
    for (int i = 0; i < kHandovers; ++i) {
        sleep_ms(250);
        d.stop();
        d.start();
    }
    sleep_ms(250);
    int failed = 0, ok = 0, wrong = 0;
    for (auto& loop : loops) {
        MESSAGE(loop->summary());
        failed += loop->failed;
        ok += loop->ok;
        wrong += loop->wrong;
    }
    MESSAGE(kHandovers << " SIGTERM hand-overs with 4 loops: " << ok << " reads ok, " << failed << " failed");
    CHECK(failed == 0);
    CHECK(wrong == 0);
    CHECK(ok > 4 * kHandovers);
}

TEST_CASE("the keeper sleeps while the daemon serves: requests do not wake it") {
    // The kernel wakes every poller of a FUSE connection on each request it
    // queues. A keeper polling its fd would wake 3-4 times per file read and
    // take CPU from the daemon and its readers.
    SKIP_UNLESS_SUPPORTED();
    Daemon d;
    pid_t keeper = keeper_of(d.mountpoint());
    REQUIRE(keeper > 0);
    auto wakeups = [&] {
        std::string status = read_proc_text("/proc/" + std::to_string(keeper) + "/status");
        auto at = status.find("voluntary_ctxt_switches:");
        REQUIRE(at != std::string::npos);
        return std::stol(status.substr(at + std::strlen("voluntary_ctxt_switches:")));
    };
    long before = wakeups();
    int reads = 0;
    for (int i = 0; i < 2000; ++i) {
        std::ifstream in(d.file("proc/meminfo"));
        std::string line;
        if (std::getline(in, line) && line.rfind("MemTotal:", 0) == 0) ++reads;
    }
    long woken = wakeups() - before;
    CHECK(reads == 2000);
    INFO("keeper woken " << woken << " times during 2000 reads (8000 FUSE requests)");
    // Its own once-a-second check is all that may wake it.
    CHECK(woken < 50);
}

TEST_CASE("a mountpoint used by another filesystem is refused with a clear message") {
    SKIP_UNLESS_SUPPORTED();
    char tmpl[] = "/tmp/pvit-busy.XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    std::string dir = tmpl;
    REQUIRE(::mount("pvit", dir.c_str(), "tmpfs", 0, "size=1m") == 0);
    std::string bin = env_or("PROCVIEWFS_BIN", PROCVIEWFS_DEFAULT_BIN);
    std::string out = dir + ".out";
    int rc = std::system((bin + " -f " + dir + " >" + out + " 2>&1").c_str());
    std::ifstream in(out);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    MESSAGE(text);
    CHECK(WEXITSTATUS(rc) != 0);
    CHECK(text.find("in use") != std::string::npos);
    CHECK(text.find("tmpfs") != std::string::npos);
    // A refusal leaves nothing under /run/procview (before: a lock file per refused start).
    CHECK(::access(procview::instance_lock_path(dir).c_str(), F_OK) != 0);
    ::umount2(dir.c_str(), MNT_DETACH);
    ::rmdir(dir.c_str());
    ::unlink(out.c_str());
}

namespace {

// procviewfs -f on `dir` in the foreground until it exits; its exit code and output.
std::pair<int, std::string> run_on(const std::string& dir) {
    std::string bin = env_or("PROCVIEWFS_BIN", PROCVIEWFS_DEFAULT_BIN);
    std::string out = dir + ".out";
    int rc = std::system(("timeout 10 " + bin + " -f " + dir + " >" + out + " 2>&1").c_str());
    std::ifstream in(out);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    ::unlink(out.c_str());
    return {WEXITSTATUS(rc), text};
}

// A volume as Kubernetes makes one: scratch directory `source` bound on
// scratch directory `mountpoint`, both under a fresh /tmp directory. At the
// end every mount stacked on `mountpoint` is unmounted and the directory
// removed, even when an assertion or a daemon that did not start ended the
// case early.
struct ScratchVolume {
    std::string base, source, mountpoint;
    ScratchVolume(const std::string& source_below, const std::string& mountpoint_below) {
        char tmpl[] = "/tmp/pvit-volume.XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
        base = tmpl;
        source = base + "/" + source_below;
        mountpoint = base + "/" + mountpoint_below;
        std::error_code ec;
        std::filesystem::create_directories(source, ec);
        if (!ec) std::filesystem::create_directories(mountpoint, ec);
        if (ec) {
            std::filesystem::remove_all(base, ec);
            throw std::runtime_error("create " + source + " and " + mountpoint);
        }
    }
    void bind() const { REQUIRE(::mount(source.c_str(), mountpoint.c_str(), nullptr, MS_BIND, nullptr) == 0); }
    ~ScratchVolume() {
        while (::umount2(mountpoint.c_str(), MNT_DETACH) == 0) {}
        std::error_code ec;
        std::filesystem::remove_all(base, ec);
        if (ec) MESSAGE("could not remove " << base << ": " << ec.message());
    }
    ScratchVolume(const ScratchVolume&) = delete;
    ScratchVolume& operator=(const ScratchVolume&) = delete;
};

}  // namespace

TEST_CASE("a bind mount of an empty directory (a Kubernetes hostPath volume) is mounted over; --unmount leaves the bind") {
    SKIP_UNLESS_SUPPORTED();
    ScratchVolume volume("host/var/lib/procview", "pod/var/lib/procview");
    volume.bind();
    const std::string& mountpoint = volume.mountpoint;
    auto before = procview::mount_at(mountpoint);
    REQUIRE(before.has_value());
    CHECK(before->root != "/");  // a directory of its filesystem: a bind mount
    {
        Daemon d({}, mountpoint);
        CHECK(read_proc_text(d.file("proc/meminfo")).rfind("MemTotal:", 0) == 0);
        CHECK(procview::mount_at(mountpoint)->type == "fuse.procviewfs");
        CHECK(d.log().find("mounting over a bind mount of an empty directory") != std::string::npos);
        CHECK(d.unmount() == 0);
        // The volume is still there, ours is gone.
        auto after = procview::mount_at(mountpoint);
        REQUIRE(after.has_value());
        CHECK(after->type == before->type);
        CHECK(after->root == before->root);
    }
}

TEST_CASE("a bind mount of a non-empty directory is refused with a clear message and nothing hidden") {
    SKIP_UNLESS_SUPPORTED();
    ScratchVolume volume("data", "mnt");
    {
        std::ofstream file(volume.source + "/somebodys-file");
        file << "x\n";
        REQUIRE(file.good());
    }
    volume.bind();
    const std::string &data = volume.source, &mountpoint = volume.mountpoint;
    auto [rc, text] = run_on(mountpoint);
    MESSAGE(text);
    CHECK(rc == 1);
    // The message names the bind's source as mountinfo does: its path within
    // its filesystem (all of /tmp/... here; /pvit-volume.../data where /tmp is
    // a tmpfs, as in the v2 lane's guest).
    const std::string below_tmp = data.substr(std::string("/tmp").size());
    CHECK(text.find("is in use: a non-empty directory (") != std::string::npos);
    CHECK(text.find(below_tmp + " of a `") != std::string::npos);
    CHECK(std::ifstream(mountpoint + "/somebodys-file").good());  // not hidden
    CHECK(::access(procview::instance_lock_path(mountpoint).c_str(), F_OK) != 0);
}
