// procviewfs under faults: each is handled (an error or the host's file, as
// documented), logged once, and never crashes or hangs the daemon.
//
//   cgroup removed under an open file   the next read answers (new cgroup, host or an error)
//   readers SIGKILLed mid-read           the daemon serves on; fds and threads come back
//   reader killed while the daemon is down   it dies at once, or once the keeper gives up a held request
//   host /proc file missing or garbage   readers get an error (or the last good copy), other files serve, one log line
//   cgroup files missing or garbage      the host's values for that part, one log line per part
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <vector>

#include "fault_reader.hpp"
#include "fusefs/keeper.hpp"
#include "fusefs/keeper_protocol.hpp"
#include "harness.hpp"

using namespace pvtest;
using namespace pvfault;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

std::string unique(const std::string& what) { return "pvhard-" + what + "-" + std::to_string(::getpid()); }

#define PVHARD_SKIP_UNLESS_SUPPORTED()                          \
    if (auto why = unsupported_reason(); !why.empty()) { \
        MESSAGE("SKIP (faults): " << why);               \
        return;                                          \
    }

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void put(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

// A temp directory removed with everything in it.
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/pvhard-faults.XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

const std::string& fixtures() {
    static const std::string dir = env_or("PROCVIEW_FIXTURES", PROCVIEW_FIXTURES_DIR);
    return dir;
}

// A cgroup tree for --cgroup-root holding `name` (the reader's real cgroup
// path) with the fixture's files: v1 (one directory per controller) or v2,
// like the host. Returns the directory of the memory files.
struct FakeCgroupRoot {
    TempDir dir;
    std::map<std::string, std::string> controller_dirs;  // "memory" → its directory
    explicit FakeCgroupRoot(const std::string& name) {
        if (pure_v2()) {
            put(dir.path + "/cgroup.controllers", "cpuset cpu io memory pids\n");
            std::string d = dir.path + "/" + name;
            fs::copy(fixtures() + "/v2/cgroup/kubepods/pod1/ctr1", d, fs::copy_options::recursive);
            for (const char* c : {"memory", "cpu", "cpuacct", "cpuset", "blkio", "pids"}) controller_dirs[c] = d;
            return;
        }
        for (const char* c : {"memory", "cpu", "cpuacct", "cpuset", "blkio", "pids"}) {
            std::string d = dir.path + "/" + c + "/" + name;
            fs::create_directories(fs::path(d).parent_path());
            fs::copy(fixtures() + "/v1/cgroup/" + c + "/pvfx", d, fs::copy_options::recursive);
            controller_dirs[c] = d;
        }
    }
    [[nodiscard]] std::string file(const std::string& controller, const std::string& v1_name,
                                   const std::string& v2_name) const {
        return controller_dirs.at(controller) + "/" + (pure_v2() ? v2_name : v1_name);
    }
};

// Lines of `text` holding `needle`.
int count_lines(const std::string& text, const std::string& needle) {
    int n = 0;
    for (const auto& line : lines(text))
        if (line.find(needle) != std::string::npos) ++n;
    return n;
}

uint64_t host_memtotal_kb() { return meminfo_kb(slurp("/proc/meminfo"), "MemTotal").value_or(0); }

}  // namespace

TEST_CASE("a cgroup removed while a reader holds its file open") {
    PVHARD_SKIP_UNLESS_SUPPORTED();
    std::optional<TestCgroup> first(std::in_place, unique("gone-a"));
    TestCgroup second(unique("gone-b"));
    first->set_memory(64 * kMiB);
    second.set_memory(128 * kMiB);
    Daemon d;
    HeldReader reader(*first);
    int slot = reader.open(d.file("proc/meminfo"));
    REQUIRE(slot >= 0);
    ReadResult before = reader.reread(slot);
    REQUIRE(before.err == 0);
    CHECK(meminfo_kb(before.content, "MemTotal") == 64 * 1024);

    // Out of the cgroup, and the cgroup removed, while the fd stays open.
    reader.move_to(second);
    first.reset();
    ReadResult after = reader.reread(slot);
    CHECK(after.err != ETIMEDOUT);
    if (after.err == 0) {
        auto total = meminfo_kb(after.content, "MemTotal");
        CHECK_MESSAGE((total == 128 * 1024 || total == host_memtotal_kb()), "MemTotal " << total.value_or(0));
    } else {
        MESSAGE("read after rmdir: " << std::strerror(after.err));
    }
    // A new open follows the reader to its new cgroup.
    ReadResult fresh = reader.read(d.file("proc/meminfo"));
    REQUIRE(fresh.err == 0);
    CHECK(meminfo_kb(fresh.content, "MemTotal") == 128 * 1024);
    reader.close(slot);
    CHECK(alive(d.pid()));
}

TEST_CASE("readers SIGKILLed mid-read: the daemon serves on, fds and threads come back") {
    PVHARD_SKIP_UNLESS_SUPPORTED();
    TestCgroup a(unique("kill-a")), b(unique("kill-b"));
    a.set_memory(80 * kMiB);
    b.set_memory(160 * kMiB);
    Daemon d;
    HeldReader probe(a);
    REQUIRE(probe.read(d.file("proc/meminfo")).err == 0);
    sleep_ms(200);
    Usage baseline = usage_of(d.pid());

    std::mt19937 rng(12345);
    const std::vector<std::string> files{"proc/meminfo", "proc/cpuinfo", "proc/stat", "proc/uptime", "proc/loadavg",
                                         "proc/diskstats", "sys/devices/system/cpu/online"};
    long slowest_kill_ms = 0;
    int killed = 0;
    for (int round = 0; round < 20; ++round) {
        std::vector<Spinner> spinners;
        for (int i = 0; i < 6; ++i) {
            // Small chunks: a file takes many requests, so the kill lands inside one.
            spinners.push_back(spawn_spinner(i % 2 ? a : b, d.file(files[rng() % files.size()]), 16 + rng() % 200));
        }
        sleep_ms(5 + static_cast<int>(rng() % 40));
        for (const auto& s : spinners) {
            slowest_kill_ms = std::max(slowest_kill_ms, kill_spinner(s));
            ++killed;
        }
        REQUIRE(alive(d.pid()));
    }
    MESSAGE(killed << " readers killed mid-read; slowest to die " << slowest_kill_ms << " ms");
    CHECK(slowest_kill_ms < 2000);
    ReadResult after = probe.read(d.file("proc/meminfo"));
    REQUIRE(after.err == 0);
    CHECK(meminfo_kb(after.content, "MemTotal") == 80 * 1024);

    // Open handles are released at once; the dead readers' containers when the
    // registry next sweeps (every 30 s).
    Usage now = usage_of(d.pid());
    for (int i = 0; i < 450 && now.fds > baseline.fds + 2; ++i) {
        sleep_ms(100);
        now = usage_of(d.pid());
    }
    MESSAGE("fds " << baseline.fds << " -> " << now.fds << ", threads " << baseline.threads << " -> " << now.threads
                   << ", RSS " << baseline.rss_kb << " -> " << now.rss_kb << " kB");
    CHECK(now.fds <= baseline.fds + 2);
    CHECK(now.threads == baseline.threads);
}

TEST_CASE("a reader killed while the daemon is down dies, at once or when the keeper gives up a held request") {
    PVHARD_SKIP_UNLESS_SUPPORTED();
    utsname uts{};
    REQUIRE(::uname(&uts) == 0);
    const bool resend = procview::release_offers_resend(uts.release);
    TestCgroup cg(unique("down"));
    cg.set_memory(72 * kMiB);
    Daemon d;
    // A request still queued dies with its reader at once. One the killed
    // daemon had read is, with FUSE_NOTIFY_RESEND (Linux 6.9+), kept for the
    // next daemon on the clone the keeper lent, and the kernel lets nothing
    // kill its reader meanwhile: the keeper closes that clone after
    // kResendGraceMs without a new daemon, which fails the request. A busy
    // reader is caught with a request held about every other kill: 4 rounds.
    const long bound = resend ? procview::kResendGraceMs + 2000 : 1000;
    int held = 0;
    for (int round = 0; round < 4; ++round) {
        Spinner spinner = spawn_spinner(cg, d.file("proc/meminfo"), 4096);
        sleep_ms(100);
        d.kill9();
        sleep_ms(300);  // the spinner is now blocked in a request nobody reads
        long ms = kill_spinner(spinner, bound);
        if (ms < 0) {
            d.start();  // lets the reader die: the test must fail, never hang
            long after = kill_spinner(spinner);
            FAIL_CHECK("round " << round << ": the reader did not die within " << bound << " ms of SIGKILL while "
                       "the daemon was down; it died " << after << " ms after the next daemon started");
            continue;
        }
        held += ms >= 1000 ? 1 : 0;
        MESSAGE("Linux " << uts.release << ", round " << round << ": the reader died " << ms << " ms after SIGKILL"
                         << std::string(ms >= 1000 ? " (its request was held until the keeper's grace ended)" : ""));
        d.start();
    }
    MESSAGE(held << " of 4 kills caught a request held for the next daemon");
    HeldReader reader(cg);
    ReadResult r = reader.read(d.file("proc/meminfo"));
    REQUIRE(r.err == 0);
    CHECK(meminfo_kb(r.content, "MemTotal") == 72 * 1024);
}

TEST_CASE("an unreadable host /proc file: an error for that file only, logged once") {
    PVHARD_SKIP_UNLESS_SUPPORTED();
    TempDir proc;
    for (const char* f : {"cpuinfo", "stat", "uptime", "loadavg", "diskstats", "swaps"})
        put(proc.path + "/" + f, slurp(std::string("/proc/") + f));
    TestCgroup cg(unique("hostfile"));
    cg.set_memory(88 * kMiB);

    struct Case {
        const char* what;
        std::function<void()> break_it;
        int reader_errno;
    };
    // The reader's errno (core/result.hpp): the host's own when the file is
    // missing, EIO when its text does not parse (never EINVAL: the read was valid).
    for (const Case& c : {Case{"missing", [&] { ::unlink((proc.path + "/meminfo").c_str()); }, ENOENT},
                          Case{"garbage", [&] { put(proc.path + "/meminfo", "MemTotal: lots\n\x01\x02\n"); }, EIO},
                          Case{"empty", [&] { put(proc.path + "/meminfo", ""); }, EIO}}) {
        CAPTURE(c.what);
        c.break_it();
        Daemon d({"--proc-root", proc.path});
        HeldReader reader(cg);
        for (int i = 0; i < 10; ++i) {
            ReadResult r = reader.read(d.file("proc/meminfo"));
            CHECK(r.err != ETIMEDOUT);
            CHECK_MESSAGE(r.err != 0, "a broken host meminfo must not render: " << r.content.substr(0, 80));
            CHECK(r.err == c.reader_errno);
            CHECK(reader.read(d.file("proc/cpuinfo")).err == 0);  // the other files still serve
        }
        CHECK_MESSAGE(count_lines(d.log(), "meminfo") == 1, "log:\n" << d.log());
        // Back: served again, without a restart.
        put(proc.path + "/meminfo", slurp("/proc/meminfo"));
        ReadResult back = reader.read(d.file("proc/meminfo"));
        REQUIRE(back.err == 0);
        CHECK(meminfo_kb(back.content, "MemTotal") == 88 * 1024);
        CHECK(alive(d.pid()));
    }
}

TEST_CASE("a host /proc file that breaks while serving: meminfo keeps its last good copy, logged once") {
    PVHARD_SKIP_UNLESS_SUPPORTED();
    TempDir proc;
    for (const char* f : {"meminfo", "cpuinfo", "stat", "uptime", "loadavg", "diskstats", "swaps"})
        put(proc.path + "/" + f, slurp(std::string("/proc/") + f));
    TestCgroup cg(unique("hostfile2"));
    cg.set_memory(88 * kMiB);
    Daemon d({"--proc-root", proc.path});
    HeldReader reader(cg);
    REQUIRE(meminfo_kb(reader.read(d.file("proc/meminfo")).content, "MemTotal") == 88 * 1024);
    std::string log_before = d.log();
    put(proc.path + "/meminfo", "garbage\n");
    put(proc.path + "/stat", "");
    for (int i = 0; i < 12; ++i) {
        sleep_ms(250);  // across the host files' 1 s cache
        ReadResult m = reader.read(d.file("proc/meminfo"));
        REQUIRE(m.err == 0);
        CHECK(meminfo_kb(m.content, "MemTotal") == 88 * 1024);
        ReadResult st = reader.read(d.file("proc/stat"));  // the last good copy or an error, promptly
        CHECK(st.err != ETIMEDOUT);
    }
    std::string logged = d.log().substr(log_before.size());
    CHECK_MESSAGE(count_lines(logged, "meminfo") == 1, "log since the fault:\n" << logged);
    CHECK_MESSAGE(count_lines(logged, "stat") == 1, "log since the fault:\n" << logged);
    CHECK(alive(d.pid()));
}

TEST_CASE("cgroup files missing or garbage: the host's values for that part, logged once") {
    PVHARD_SKIP_UNLESS_SUPPORTED();
    std::string name = unique("cgfiles");
    TestCgroup cg(name);
    FakeCgroupRoot root(name);
    Daemon d({"--cgroup-root", root.dir.path});
    HeldReader reader(cg);
    // The fixture's limit: 256 kMiB, in v1 and v2 alike.
    REQUIRE(meminfo_kb(reader.read(d.file("proc/meminfo")).content, "MemTotal") == 256 * 1024);

    std::string log_before = d.log();
    put(root.file("memory", "memory.stat", "memory.stat"), "total_rss lots\n");
    ::unlink(root.file("cpuacct", "cpuacct.usage_all", "cpu.stat").c_str());
    ::unlink(root.file("cpuacct", "cpuacct.usage", "cpu.stat").c_str());
    put(root.file("cpu", "cpu.cfs_quota_us", "cpu.max"), "zz\n");
    for (int i = 0; i < 10; ++i) {
        for (const char* f : {"proc/meminfo", "proc/stat", "proc/uptime", "proc/cpuinfo", "proc/loadavg",
                              "proc/diskstats", "proc/swaps"}) {
            CAPTURE(f);
            ReadResult r = reader.read(d.file(f));
            CHECK(r.err == 0);
            if (std::string(f) != "proc/diskstats") CHECK(!r.content.empty());  // no I/O: no diskstats lines
        }
        CHECK(meminfo_kb(reader.read(d.file("proc/meminfo")).content, "MemTotal") == host_memtotal_kb());
    }
    std::string logged = d.log().substr(log_before.size());
    CHECK_MESSAGE(count_lines(logged, "memory cgroup unreadable") == 1, logged);
    CHECK_MESSAGE(count_lines(logged, "CPU usage unreadable") == 1, logged);

    // Fixed again: the cgroup's view is back.
    fs::copy_file(fixtures() + (pure_v2() ? "/v2/cgroup/kubepods/pod1/ctr1/memory.stat" : "/v1/cgroup/memory/pvfx/memory.stat"),
                  root.file("memory", "memory.stat", "memory.stat"), fs::copy_options::overwrite_existing);
    CHECK(meminfo_kb(reader.read(d.file("proc/meminfo")).content, "MemTotal") == 256 * 1024);
    CHECK(alive(d.pid()));
}

TEST_CASE("a reader whose cgroup is absent from the cgroup tree gets the host's files") {
    PVHARD_SKIP_UNLESS_SUPPORTED();
    TestCgroup cg(unique("absent"));
    FakeCgroupRoot root(unique("someone-else"));
    Daemon d({"--cgroup-root", root.dir.path});
    HeldReader reader(cg);
    for (int i = 0; i < 5; ++i) {
        ReadResult r = reader.read(d.file("proc/meminfo"));
        REQUIRE(r.err == 0);
        CHECK(meminfo_kb(r.content, "MemTotal") == host_memtotal_kb());
    }
    CHECK(alive(d.pid()));
}
