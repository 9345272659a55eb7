// procview-runtime joins only the time namespaces it made
// (shim/time_namespace_io.hpp), with real namespaces: root and a kernel with
// time namespaces, else skipped with the reason.
//
// "Attacker": a process that made its own user and time namespaces (a
// monotonic offset of 1e6 s) and a state file naming it as a container's init,
// with the start time it really has, so only the ownership and record checks
// stand between it and the shim. "Legit": a process that went through
// enter_new_time_namespace, as `procview-runtime create` does.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/cgroup_files.hpp"
#include "platform/fs.hpp"
#include "shim/time_namespace.hpp"
#include "shim/time_namespace_io.hpp"

namespace fs = std::filesystem;
using namespace procview;
using namespace procview::shim;
using Outcome = TimeNamespaceJoin::Outcome;

namespace {

struct ScratchRoot {
    fs::path path;
    ScratchRoot() {
        std::string tmpl = (fs::temp_directory_path() / "pvshim-timens-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~ScratchRoot() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    ScratchRoot(const ScratchRoot&) = delete;
    ScratchRoot& operator=(const ScratchRoot&) = delete;
};

std::string time_ns_of(pid_t pid) {
    auto link = read_link_at(AT_FDCWD, "/proc/" + std::to_string(pid) + "/ns/time");
    return link ? *link : "?";
}

uint64_t start_ticks_of(pid_t pid) {
    auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
    REQUIRE(text);
    auto stat = parse_proc_pid_stat(*text);
    REQUIRE(stat);
    return stat->start_ticks;
}

void write_text(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
}

// Sets up its namespaces in a forked child, which then waits until the
// parent goes away or kills it. "ok" or the failure comes back through a pipe.
class NamespaceHolder {
public:
    enum class Kind { made_by_shim, own_user_namespace };

    NamespaceHolder(Kind kind, const std::string& record_path) {
        int ready[2], hold[2];
        REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(hold, O_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::close(ready[0]);
            ::close(hold[1]);
            std::string why = kind == Kind::made_by_shim ? as_shim(record_path) : as_attacker();
            // Its start time as the runtime, running in its namespace, would record it.
            std::string msg = why.empty() ? "ok " + std::to_string(start_ticks_of(::getpid())) : why;
            (void)!::write(ready[1], msg.data(), msg.size());
            ::close(ready[1]);
            char c;
            (void)!::read(hold[0], &c, 1);  // until the parent closes its end
            ::_exit(0);
        }
        ::close(ready[1]);
        ::close(hold[0]);
        hold_ = hold[1];
        char buf[512];
        ssize_t n = ::read(ready[0], buf, sizeof buf);
        ::close(ready[0]);
        status_ = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "the holder died";
        if (status_.starts_with("ok ")) {
            start_ticks_inside_ = std::stoull(status_.substr(3));
            status_ = "ok";
        }
    }
    ~NamespaceHolder() {
        ::close(hold_);
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    NamespaceHolder(const NamespaceHolder&) = delete;
    NamespaceHolder& operator=(const NamespaceHolder&) = delete;

    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] const std::string& status() const { return status_; }
    // runc's state.json naming this process as the init, with the start time runc would record.
    [[nodiscard]] std::string runc_state() const {
        return R"({"id":"c","init_process_pid":)" + std::to_string(pid_) + R"(,"init_process_start":)" +
               std::to_string(start_ticks_inside_) + "}";
    }

private:
    static std::string as_shim(const std::string& record_path) {
        auto made = enter_new_time_namespace(record_path);
        return made ? "" : made.error().describe();
    }
    // What the reviewer did: uid 65534, its own user namespace, a time namespace with a monotonic offset.
    static std::string as_attacker() {
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)
            return std::string("setresuid: ") + std::strerror(errno);
        // As after an execve: setresuid cleared "dumpable", which hands /proc/self to root.
        if (::prctl(PR_SET_DUMPABLE, 1) != 0) return std::string("prctl: ") + std::strerror(errno);
        if (::unshare(CLONE_NEWUSER) != 0) return std::string("unshare(CLONE_NEWUSER): ") + std::strerror(errno);
        if (::unshare(CLONE_NEWTIME) != 0) return std::string("unshare(CLONE_NEWTIME): ") + std::strerror(errno);
        int fd = ::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
        std::string offset = "monotonic 1000000 0\n";
        bool written = fd >= 0 && ::write(fd, offset.data(), offset.size()) == static_cast<ssize_t>(offset.size());
        if (fd >= 0) ::close(fd);
        if (!written) return std::string("write timens_offsets: ") + std::strerror(errno);
        int ns = ::open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
        if (ns < 0 || ::setns(ns, CLONE_NEWTIME) != 0) return std::string("setns: ") + std::strerror(errno);
        ::close(ns);
        return "";
    }

    pid_t pid_ = -1;
    int hold_ = -1;
    std::string status_;
    uint64_t start_ticks_inside_ = 0;
};

struct JoinReport {
    std::string outcome;  // joined, none, not_ours, unrecorded or "error: ..."
    std::string detail;
    std::string time_ns;  // the joining process's /proc/self/ns/time afterwards
    long monotonic_s = 0;
};

// The join changes the caller's namespace: run it in a forked child, as the shim runs it before execve.
JoinReport join_in_child(const std::vector<std::string>& state_files, const std::string& record_path) {
    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(out[0]);
        auto joined = join_container_time_namespace(state_files, record_path);
        std::string outcome = !joined ? "error"
                              : joined->outcome == Outcome::joined     ? "joined"
                              : joined->outcome == Outcome::not_ours   ? "not_ours"
                              : joined->outcome == Outcome::unrecorded ? "unrecorded"
                                                                       : "none";
        timespec ts{};
        ::clock_gettime(CLOCK_MONOTONIC, &ts);
        std::string msg = outcome + "\n" + (joined ? joined->detail : joined.error().describe()) + "\n" +
                          time_ns_of(::getpid()) + "\n" + std::to_string(ts.tv_sec) + "\n";
        (void)!::write(out[1], msg.data(), msg.size());
        ::_exit(0);
    }
    ::close(out[1]);
    std::string text;
    char buf[1024];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
    ::close(out[0]);
    ::waitpid(pid, nullptr, 0);
    JoinReport r;
    std::istringstream lines(text);
    std::string monotonic;
    std::getline(lines, r.outcome);
    std::getline(lines, r.detail);
    std::getline(lines, r.time_ns);
    std::getline(lines, monotonic);
    r.monotonic_s = std::atol(monotonic.c_str());
    return r;
}

std::string skip_reason() {
    if (::geteuid() != 0) return "needs root (time namespaces)";
    if (::access("/proc/self/ns/time", F_OK) != 0) return "this kernel has no time namespaces";
    return "";
}

#define PVSHIM_SKIP_UNLESS_SUPPORTED()                  \
    if (auto why = skip_reason(); !why.empty()) {       \
        MESSAGE("SKIP (shim time namespaces): " << why); \
        return;                                         \
    }

}  // namespace

TEST_CASE("a time namespace procview-runtime made is recorded and joined") {
    PVSHIM_SKIP_UNLESS_SUPPORTED();
    ScratchRoot root;
    std::string record = (root.path / ".procview-timens:c").string();
    std::string state = (root.path / "c/state.json").string();
    NamespaceHolder holder(NamespaceHolder::Kind::made_by_shim, record);
    REQUIRE_MESSAGE(holder.status() == "ok", holder.status());
    CHECK(time_ns_of(holder.pid()) != time_ns_of(::getpid()));
    struct stat st {};
    REQUIRE(::stat(record.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(st.st_uid == 0);
    write_text(state, holder.runc_state());

    auto joined = join_in_child({state}, record);
    CHECK_MESSAGE(joined.outcome == "joined", joined.detail);
    CHECK(joined.time_ns == time_ns_of(holder.pid()));

    SUBCASE("without the record it is left alone") {
        REQUIRE(remove_time_namespace_record(record));
        auto r = join_in_child({state}, record);
        CHECK_MESSAGE(r.outcome == "unrecorded", r.detail);
        CHECK(r.time_ns == time_ns_of(::getpid()));
        CHECK(remove_time_namespace_record(record));  // gone already: fine
    }
    SUBCASE("a record of another namespace is not this one's") {
        write_text(record, "1 2\n");
        ::chmod(record.c_str(), 0600);
        auto r = join_in_child({state}, record);
        CHECK_MESSAGE(r.outcome == "not_ours", r.detail);
        CHECK(r.time_ns == time_ns_of(::getpid()));
    }
    SUBCASE("a record others may write is not trusted") {
        ::chmod(record.c_str(), 0666);
        auto r = join_in_child({state}, record);
        CHECK_MESSAGE(r.outcome == "not_ours", r.detail);
        CHECK(r.detail.find("not a record procview-runtime wrote") != std::string::npos);
    }
}

TEST_CASE("a time namespace owned by another user namespace is never joined, recorded or not") {
    PVSHIM_SKIP_UNLESS_SUPPORTED();
    ScratchRoot root;
    std::string record = (root.path / ".procview-timens:c").string();
    std::string state = (root.path / "c/state.json").string();
    NamespaceHolder attacker(NamespaceHolder::Kind::own_user_namespace, "");
    if (attacker.status() != "ok") {
        MESSAGE("SKIP (shim time namespaces): an unprivileged user namespace: " << attacker.status());
        return;
    }
    REQUIRE(time_ns_of(attacker.pid()) != time_ns_of(::getpid()));
    // The crafted state names the attacker with its true start time, so the start-time check passes.
    write_text(state, attacker.runc_state());
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);

    auto r = join_in_child({state}, record);
    CHECK_MESSAGE(r.outcome == "not_ours", r.detail);
    CHECK(r.detail.find("owned by") != std::string::npos);
    CHECK(r.time_ns == time_ns_of(::getpid()));
    CHECK(r.monotonic_s < now.tv_sec + 100);  // not shifted by the attacker's 1e6 s

    // Even a record naming it (whoever could write one) does not make it ours.
    struct stat st {};
    REQUIRE(::stat(("/proc/" + std::to_string(attacker.pid()) + "/ns/time").c_str(), &st) == 0);
    write_text(record, format_time_namespace_record(NamespaceId{st.st_dev, st.st_ino}));
    ::chmod(record.c_str(), 0600);
    auto planted = join_in_child({state}, record);
    CHECK_MESSAGE(planted.outcome == "not_ours", planted.detail);
    CHECK(planted.time_ns == time_ns_of(::getpid()));
    CHECK(planted.monotonic_s < now.tv_sec + 100);
}

TEST_CASE("nothing to join: no state, the init gone, or the caller's own namespace") {
    PVSHIM_SKIP_UNLESS_SUPPORTED();
    ScratchRoot root;
    std::string record = (root.path / ".procview-timens:c").string();
    std::string state = (root.path / "c/state.json").string();
    CHECK(join_in_child({state}, record).outcome == "none");
    write_text(state, R"({"init_process_pid": )" + std::to_string(::getpid()) + "}");  // the host's namespace
    CHECK(join_in_child({state}, record).outcome == "none");
    write_text(state, R"({"init_process_pid": 1073741823})");
    CHECK(join_in_child({state}, record).outcome == "none");
}
