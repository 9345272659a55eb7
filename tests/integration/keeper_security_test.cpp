// Who may talk to the keeper. It holds the FUSE connection every container's
// view goes through: a process that could take it could answer other
// containers' reads with anything. Only procviewfs running as host root may:
// not a uid-0 process of a container that shares the host's network
// namespace (it could reach the old abstract socket), not an unprivileged
// user squatting the keeper's name before it starts.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fuse.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fusefs/keeper_socket.hpp"
#include "fusefs/unix_message.hpp"
#include "harness.hpp"

using namespace pvtest;

namespace {

// Where a keeper can be reached: the path socket, and the abstract name
// keepers used before it (still tried, so these tests fail against them).
struct Address {
    std::string name;
    bool abstract = false;
};

std::vector<Address> keeper_addresses(const std::string& mountpoint) {
    std::string tail = mountpoint.size() > 60 ? mountpoint.substr(mountpoint.size() - 60) : mountpoint;
    return {{procview::keeper_socket_path(mountpoint), false},
            {"procview-keeper/" + procview::mountpoint_hash(mountpoint) + ":" + tail, true}};
}

sockaddr_un to_sockaddr(const Address& a, socklen_t& len) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::size_t n = std::min(a.name.size(), sizeof(addr.sun_path) - 2);
    std::memcpy(addr.sun_path + (a.abstract ? 1 : 0), a.name.data(), n);
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);  // the leading or the trailing NUL
    return addr;
}

int connect_to(const Address& a) {
    int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    socklen_t len = 0;
    auto addr = to_sockaddr(a, len);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Keeps only the capabilities in `keep` (bit numbers), in every set.
void drop_capabilities(uint64_t keep = 0) {
    for (int cap = 0; cap <= 63; ++cap)
        if (!(keep & (1ULL << cap))) ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    __user_cap_header_struct get{_LINUX_CAPABILITY_VERSION_3, 0};
    ::syscall(SYS_capget, &get, data);
    for (int i = 0; i < 2; ++i) {
        uint32_t mask = static_cast<uint32_t>(keep >> (32 * i));
        data[i].effective &= mask;
        data[i].permitted &= mask;
        data[i].inheritable &= mask;
    }
    ::syscall(SYS_capset, &header, data);
}

constexpr uint64_t kAllCaps = ~0ULL;
// Docker's and containerd's default set: no CAP_SYS_ADMIN, no CAP_SYS_PTRACE.
constexpr uint64_t kDockerDefaultCaps = (1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER) |
                                        (1ULL << CAP_FSETID) | (1ULL << CAP_KILL) | (1ULL << CAP_SETGID) |
                                        (1ULL << CAP_SETUID) | (1ULL << CAP_SETPCAP) | (1ULL << CAP_NET_BIND_SERVICE) |
                                        (1ULL << CAP_NET_RAW) | (1ULL << CAP_SYS_CHROOT) | (1ULL << CAP_MKNOD) |
                                        (1ULL << CAP_AUDIT_WRITE) | (1ULL << CAP_SETFCAP);

// In the forged process: one line per address, "connected got_fd reply".
std::string forge(const std::vector<Address>& addresses, const std::string& command, const std::string& payload) {
    std::string report = read_proc_text("/proc/self/status").find("CapEff:\t0000000000000000") != std::string::npos
                             ? "nocaps\n"
                             : "caps\n";
    for (const auto& a : addresses) {
        int fd = connect_to(a);
        std::string reply = "-";
        bool got_fd = false;
        if (fd >= 0) {
            (void)procview::send_message(fd, command, payload, -1);  // may find the connection closed already
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 300) > 0) {
                auto m = procview::receive_message(fd);
                if (!m) m = procview::receive_message(fd);  // as a daemon reads: a reset first, then what was queued
                if (m) {
                    reply = m->command.empty() ? "?" : m->command;
                    got_fd = m->fd.valid();
                }
            }
        }
        report += std::to_string(fd >= 0) + " " + std::to_string(got_fd) + " " + reply + "\n";
        if (fd >= 0) ::close(fd);
    }
    return report;
}

void map_root_in_new_user_namespace() {
    auto write = [](const char* path, const char* text) {
        int fd = ::open(path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            (void)!::write(fd, text, std::strlen(text));
            ::close(fd);
        }
    };
    write("/proc/self/uid_map", "0 0 1");
}

// Runs forge() in a child that unshared `flags` (pid 1 of a new pid
// namespace with CLONE_NEWPID), as uid 0 with only the capabilities `keep`
// (none by default), still in our network namespace: a `--network=host` container.
std::string forge_from_other_namespaces(int flags, const std::vector<Address>& addresses, const std::string& command,
                                        const std::string& payload = "", uint64_t keep = 0) {
    int pipefd[2];
    REQUIRE(::pipe2(pipefd, O_CLOEXEC) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(pipefd[0]);
        if (::unshare(flags) != 0) std::_Exit(10);
        if (flags & CLONE_NEWUSER) map_root_in_new_user_namespace();
        pid_t inner = (flags & CLONE_NEWPID) ? ::fork() : 0;
        if (inner < 0) std::_Exit(11);
        if (inner > 0) {
            int status = 0;
            ::waitpid(inner, &status, 0);
            std::_Exit(WIFEXITED(status) ? WEXITSTATUS(status) : 12);
        }
        drop_capabilities(keep);
        std::string report = forge(addresses, command, payload);
        if (::write(pipefd[1], report.data(), report.size()) != static_cast<ssize_t>(report.size())) std::_Exit(13);
        std::_Exit(0);
    }
    ::close(pipefd[1]);
    std::string report;
    char buf[512];
    for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) report.append(buf, static_cast<std::size_t>(n));
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    return report;
}

bool alive(pid_t pid) {
    std::string text = read_proc_text("/proc/" + std::to_string(pid) + "/stat");
    auto close = text.rfind(')');
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

}  // namespace

TEST_CASE("a uid-0 process in other namespaces sharing the network namespace gets nothing from the keeper") {
    SKIP_UNLESS_SUPPORTED();
    Daemon d;
    const std::string want = first_line(d.file("proc/meminfo"));
    REQUIRE(want.rfind("MemTotal:", 0) == 0);
    auto addresses = keeper_addresses(d.mountpoint());

    struct Variant {
        const char* what;
        int flags;
        uint64_t caps = 0;
    };
    // With capabilities too: the keeper no longer asks for its own mount
    // namespace (the next Kubernetes pod has another), so the pid and user
    // namespaces and CAP_SYS_ADMIN + CAP_SYS_PTRACE are what refuse these.
    for (auto v : {Variant{"mount + pid namespaces", CLONE_NEWNS | CLONE_NEWPID}, Variant{"pid namespace", CLONE_NEWPID},
                   Variant{"mount namespace", CLONE_NEWNS}, Variant{"user namespace, root mapped", CLONE_NEWUSER},
                   Variant{"mount namespace, Docker's default capabilities", CLONE_NEWNS, kDockerDefaultCaps},
                   Variant{"mount namespace, every capability but CAP_SYS_PTRACE", CLONE_NEWNS,
                           kAllCaps & ~(1ULL << CAP_SYS_PTRACE)},
                   Variant{"mount namespace, every capability but CAP_SYS_ADMIN", CLONE_NEWNS,
                           kAllCaps & ~(1ULL << CAP_SYS_ADMIN)},
                   Variant{"mount + pid namespaces, every capability", CLONE_NEWNS | CLONE_NEWPID, kAllCaps},
                   Variant{"user namespace, root mapped, every capability in it", CLONE_NEWUSER, kAllCaps}}) {
        std::string report = forge_from_other_namespaces(v.flags, addresses, "ATTACH", "", v.caps);
        INFO(std::string(v.what) << ":\n" << report);
        CHECK(report.rfind(v.caps ? "caps\n" : "nocaps\n", 0) == 0);
        CHECK(report.find(" 1 ") == std::string::npos);  // no fd, from either address
        CHECK(report.find("CLONE") == std::string::npos);
        CHECK(report.find("MASTER") == std::string::npos);
        CHECK(report.find("\n1 0 REFUSED\n") != std::string::npos);  // the path: reached, and refused
    }
    // Forged commands: a garbage INIT for the next daemon to replay, a claim
    // to serve (the daemon would retire), an unmount.
    for (auto [command, payload] : {std::pair<std::string, std::string>{"INIT", "forged, not a FUSE_INIT request"},
                                    {"SERVING", ""}, {"UNMOUNT", ""}}) {
        std::string report = forge_from_other_namespaces(CLONE_NEWNS | CLONE_NEWPID, addresses, command, payload);
        INFO(command << ":\n" << report);
        CHECK(report.find(" 1 ") == std::string::npos);
    }
    sleep_ms(300);
    CHECK(alive(d.pid()));
    CHECK(mounted_at(d.mountpoint()));
    CHECK(d.log().find("newer procviewfs") == std::string::npos);
    CHECK(d.log().find("another pid namespace") != std::string::npos);
    CHECK(d.log().find("another user namespace") != std::string::npos);
    CHECK(d.log().find("lacks CAP_SYS_ADMIN or CAP_SYS_PTRACE") != std::string::npos);
    CHECK(first_line(d.file("proc/meminfo")) == want);
    // The keeper still has the kernel's INIT: a restarted daemon replays it and serves.
    d.kill9();
    d.start();
    CHECK(first_line(d.file("proc/meminfo")) == want);
    CHECK(first_line(d.file("proc/uptime")) != "");
}

TEST_CASE("an unprivileged squatter on the keeper's names neither stops procviewfs nor is believed") {
    SKIP_UNLESS_SUPPORTED();
    char tmpl[] = "/tmp/pvit-squat.XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    const std::string mountpoint = tmpl;
    auto addresses = keeper_addresses(mountpoint);
    int to_squatter[2], from_squatter[2];
    REQUIRE(::pipe2(to_squatter, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(from_squatter, O_CLOEXEC) == 0);
    pid_t squatter = ::fork();
    REQUIRE(squatter >= 0);
    if (squatter == 0) {
        // Binds every name it can, answers ATTACH with a FUSE fd of its own,
        // and reports how many connections it got when told to stop.
        ::close(to_squatter[1]);
        ::close(from_squatter[0]);
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) std::_Exit(2);
        std::vector<int> listeners;
        std::string report;
        for (const auto& a : addresses) {
            int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
            socklen_t len = 0;
            auto addr = to_sockaddr(a, len);
            bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 && ::listen(fd, 4) == 0;
            report += std::string(a.abstract ? "abstract" : "path") + (bound ? " bound\n" : " refused\n");
            if (bound) listeners.push_back(fd);
        }
        (void)!::write(from_squatter[1], "r", 1);  // ready
        int accepted = 0;
        int own_fuse = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
        for (;;) {
            std::vector<pollfd> fds{{to_squatter[0], POLLIN, 0}};
            for (int l : listeners) fds.push_back({l, POLLIN, 0});
            if (::poll(fds.data(), fds.size(), -1) < 0) continue;
            if (fds[0].revents) break;
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if (!fds[i].revents) continue;
                int c = ::accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0) continue;
                ++accepted;
                if (auto m = procview::receive_message(c); m && m->command == "ATTACH")
                    procview::send_message(c, "MASTER", "forged", own_fuse);
                ::close(c);
            }
        }
        report += "accepted " + std::to_string(accepted) + "\n";
        (void)!::write(from_squatter[1], report.data(), report.size());
        std::_Exit(0);
    }
    ::close(to_squatter[0]);
    ::close(from_squatter[1]);
    char ready;
    REQUIRE(::read(from_squatter[0], &ready, 1) == 1);
    std::string log_text;
    bool served = false;
    {
        try {
            Daemon d({}, mountpoint);
            served = first_line(d.file("proc/meminfo")).rfind("MemTotal:", 0) == 0;
            log_text = d.log();
        } catch (const std::exception& e) {
            log_text = e.what();
        }
    }
    ::close(to_squatter[1]);
    std::string report;
    char buf[256];
    for (ssize_t n; (n = ::read(from_squatter[0], buf, sizeof buf)) > 0;) report.append(buf, static_cast<std::size_t>(n));
    ::close(from_squatter[0]);
    ::waitpid(squatter, nullptr, 0);
    ::rmdir(mountpoint.c_str());
    INFO("squatter:\n" << report << "procviewfs:\n" << log_text);
    CHECK(served);
    CHECK(report.find("path refused") != std::string::npos);  // the directory is root's, 0700
    CHECK(report.find("accepted 0") != std::string::npos);
}

namespace {

// A keeper we start ourselves, for a FUSE mount nobody serves: its protocol
// seen from a client, without a daemon in the way.
struct BareKeeper {
    std::string mountpoint;
    int fuse = -1;
    pid_t pid = -1;
    std::string log_path;

    BareKeeper() {
        char tmpl[] = "/tmp/pvit-keeper.XXXXXX";
        REQUIRE(::mkdtemp(tmpl));
        mountpoint = tmpl;
        log_path = mountpoint + ".log";
        fuse = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
        REQUIRE(fuse >= 0);
        std::string data = "fd=" + std::to_string(fuse) + ",rootmode=40555,user_id=0,group_id=0";
        REQUIRE(::mount("pvit", mountpoint.c_str(), "fuse.procviewfs", MS_NOSUID | MS_NODEV | MS_RDONLY, data.c_str()) == 0);
        auto listen = procview::bind_keeper_socket(mountpoint);
        REQUIRE(listen.ok());
        std::string bin = env_or("PROCVIEWFS_BIN", PROCVIEWFS_DEFAULT_BIN);
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(out, 2);
            ::dup2(fuse, 100);
            ::dup2(listen->get(), 101);
            ::execl(bin.c_str(), "procviewfs", "--keeper", mountpoint.c_str(), "100", "101", nullptr);
            std::_Exit(127);
        }
    }
    ~BareKeeper() {
        if (pid > 0 && alive(pid)) ::kill(pid, SIGKILL);
        if (pid > 0) ::waitpid(pid, nullptr, 0);
        ::umount2(mountpoint.c_str(), MNT_DETACH);
        ::close(fuse);
        ::rmdir(mountpoint.c_str());
        ::unlink(log_path.c_str());
        ::unlink(procview::keeper_socket_path(mountpoint).c_str());
    }
    BareKeeper(const BareKeeper&) = delete;
    BareKeeper& operator=(const BareKeeper&) = delete;

    [[nodiscard]] int connect() const {
        auto sock = procview::connect_keeper_socket(mountpoint, 5000);
        INFO((sock ? std::string() : sock.error().describe()));
        REQUIRE(sock.ok());
        return sock->release();
    }
    [[nodiscard]] std::string log() const { return read_proc_text(log_path); }
};

std::optional<procview::UnixMessage> ask(int sock, const std::string& command, const std::string& payload = "") {
    REQUIRE(procview::send_message(sock, command, payload, -1));
    pollfd p{sock, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) return std::nullopt;
    return procview::receive_message(sock);
}

void tell(int sock, const std::string& command, const std::string& payload = "") {
    REQUIRE(procview::send_message(sock, command, payload, -1));
    sleep_ms(100);  // let the keeper act on it
}

}  // namespace

TEST_CASE("the keeper: only a well-formed first INIT, clones never its own fd, UNMOUNT only from the owner") {
    SKIP_UNLESS_SUPPORTED();
    BareKeeper k;
    // The kernel queued the connection's INIT at mount: the real bytes.
    std::string init(1 << 20, '\0');  // the kernel wants room for a whole WRITE
    ssize_t n = ::read(k.fuse, init.data(), init.size());
    REQUIRE(n > 0);
    init.resize(static_cast<std::size_t>(n));

    int a = k.connect();
    tell(a, "INIT", "forged, not a FUSE_INIT request");
    tell(a, "INIT", init.substr(0, init.size() - 8));  // truncated: libfuse would read past it
    auto reply = ask(a, "ATTACH");
    REQUIRE(reply);
    CHECK(reply->command == "NOINIT");
    CHECK(k.log().find("refused a message: INIT") != std::string::npos);

    reply = ask(a, "INIT", init);
    REQUIRE(reply);
    CHECK(reply->command == "STORED");
    reply = ask(a, "ATTACH");
    REQUIRE(reply);
    CHECK(reply->command == "CLONE");
    CHECK(reply->payload == init);
    REQUIRE(reply->fd.valid());
    // Another file than the keeper's original (which is our `fuse`, shared
    // through fork): a clone of the connection.
    CHECK(::syscall(SYS_kcmp, ::getpid(), ::getpid(), KCMP_FILE, reply->fd.get(), k.fuse) != 0);

    // A second INIT, well formed but different, from another client: refused.
    int b = k.connect();
    std::string other = init;
    other[offsetof(fuse_in_header, unique)] ^= 0x40;
    tell(b, "INIT", other);
    reply = ask(b, "ATTACH");
    REQUIRE(reply);
    CHECK(reply->payload == init);
    CHECK(k.log().find("refused an INIT") != std::string::npos);

    tell(a, "SERVING");
    tell(b, "UNMOUNT");  // b is not the owner
    CHECK(mounted_at(k.mountpoint));
    CHECK(k.log().find("refused UNMOUNT") != std::string::npos);
    tell(b, "SERVING");
    reply = ask(a, "ATTACH");  // first in a's queue: the RETIRE
    REQUIRE(reply);
    CHECK(reply->command == "RETIRE");

    // At most 16 clients: a and b, and 14 more; the rest are closed at once.
    std::vector<int> extra;
    for (int i = 0; i < 20; ++i) extra.push_back(k.connect());
    sleep_ms(300);
    int closed = 0;
    for (int fd : extra) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLIN))) ++closed;
        ::close(fd);
    }
    CHECK(closed == 6);
    reply = ask(b, "ATTACH");  // still answering
    REQUIRE(reply);
    CHECK(reply->command == "CLONE");

    tell(b, "UNMOUNT");
    CHECK_FALSE(mounted_at(k.mountpoint));
    for (int i = 0; i < 100 && alive(k.pid); ++i) sleep_ms(10);
    CHECK_FALSE(alive(k.pid));
    ::close(a);
    ::close(b);
}

TEST_CASE("a mount held by a keeper we do not talk to (one from before the path socket) is replaced; its readers fail") {
    SKIP_UNLESS_SUPPORTED();
    char tmpl[] = "/tmp/pvit-oldkeeper.XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    const std::string mountpoint = tmpl;
    // The test plays the old keeper: it holds the connection, serves
    // nothing and listens nowhere a new daemon looks.
    int fuse = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
    REQUIRE(fuse >= 0);
    std::string data = "fd=" + std::to_string(fuse) + ",rootmode=40555,user_id=0,group_id=0,allow_other";
    REQUIRE(::mount("pvit", mountpoint.c_str(), "fuse.procviewfs", MS_NOSUID | MS_NODEV | MS_RDONLY, data.c_str()) == 0);
    // A reader of the old mount waits, as a container's would.
    pid_t reader = ::fork();
    REQUIRE(reader >= 0);
    if (reader == 0) {
        int fd = ::open((mountpoint + "/proc/meminfo").c_str(), O_RDONLY | O_CLOEXEC);
        std::_Exit(fd < 0 ? errno : 0);
    }
    sleep_ms(200);
    int status = 0;
    CHECK(::waitpid(reader, &status, WNOHANG) == 0);

    bool served = false;
    std::string log_text;
    try {
        Daemon d({}, mountpoint);
        served = first_line(d.file("proc/meminfo")).rfind("MemTotal:", 0) == 0;
        log_text = d.log();
    } catch (const std::exception& e) {
        log_text = e.what();
    }
    INFO(log_text);
    CHECK(served);  // without statfs hanging on the old mount first
    CHECK(log_text.find("clearing a stale mount") != std::string::npos);
    bool reader_done = false;
    for (int i = 0; i < 100 && !reader_done; ++i) {
        reader_done = ::waitpid(reader, &status, WNOHANG) == reader;
        if (!reader_done) sleep_ms(10);
    }
    CHECK(reader_done);  // failed (the old connection is aborted) instead of waiting forever
    if (reader_done) CHECK(WEXITSTATUS(status) != 0);
    pollfd p{fuse, 0, 0};
    CHECK(::poll(&p, 1, 0) == 1);  // the old keeper sees its connection end, and exits
    CHECK((p.revents & POLLERR) != 0);
    if (!reader_done) {
        ::kill(reader, SIGKILL);
        ::waitpid(reader, nullptr, 0);
    }
    ::close(fuse);
    ::umount2(mountpoint.c_str(), MNT_DETACH);
    ::rmdir(mountpoint.c_str());
}

namespace {

// procviewfs -f on `mountpoint` in its own mount namespace (a private copy of
// ours, the procviewfs mount included: a Kubernetes pod), keeping only the
// capabilities `keep`; its output goes to `log_path`.
pid_t start_in_other_mount_namespace(const std::string& mountpoint, const std::string& log_path, uint64_t keep) {
    pid_t other = ::fork();
    if (other != 0) return other;
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        std::_Exit(20);
    drop_capabilities(keep);
    exec_procviewfs(log_path, mountpoint);
}

// Waits up to `ms` for `pid` to exit; kills it after that. Its exit code, or -1.
int wait_exit(pid_t pid, int ms) {
    int status = 0;
    for (int i = 0; i < ms / 10; ++i) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        sleep_ms(10);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
}

}  // namespace

TEST_CASE("procviewfs in another mount namespace without CAP_SYS_ADMIN is refused by the keeper and leaves the mount alone") {
    SKIP_UNLESS_SUPPORTED();
    Daemon d;
    const std::string want = first_line(d.file("proc/meminfo"));
    pid_t keeper = keeper_of(d.mountpoint());
    REQUIRE(keeper > 0);
    d.kill9();  // frees the instance lock; the keeper holds the mount
    std::string log_path = d.mountpoint() + ".other-ns.log";
    // A privileged container would have every capability: this one lacks CAP_SYS_ADMIN.
    pid_t other = start_in_other_mount_namespace(d.mountpoint(), log_path, kAllCaps & ~(1ULL << CAP_SYS_ADMIN));
    REQUIRE(other > 0);
    int rc = wait_exit(other, 5000);
    std::string other_log = read_proc_text(log_path);
    ::unlink(log_path.c_str());
    INFO(other_log);
    CHECK(rc == 1);
    CHECK(other_log.find("the keeper of " + d.mountpoint() + " refused us") != std::string::npos);
    CHECK(alive(keeper));
    d.start();
    CHECK(first_line(d.file("proc/meminfo")) == want);
    CHECK(d.log().find("attached to the live mount") != std::string::npos);
}

TEST_CASE("procviewfs in another mount namespace with CAP_SYS_ADMIN and CAP_SYS_PTRACE (the next pod) takes over the live mount") {
    SKIP_UNLESS_SUPPORTED();
    Daemon d;
    const std::string want = first_line(d.file("proc/meminfo"));
    pid_t keeper = keeper_of(d.mountpoint());
    REQUIRE(keeper > 0);
    d.kill9();
    std::string log_path = d.mountpoint() + ".next-pod.log";
    pid_t next = start_in_other_mount_namespace(d.mountpoint(), log_path, kAllCaps);
    REQUIRE(next > 0);
    // Attached (or refused and exited) before we read: with no daemon
    // attached, a read would wait in the kernel for good.
    std::string next_log;
    int status = 0;
    bool exited = false;
    for (int i = 0; i < 500 && next_log.find("attached to the live mount") == std::string::npos && !exited; ++i) {
        sleep_ms(10);
        exited = ::waitpid(next, &status, WNOHANG) == next;
        next_log = read_proc_text(log_path);
    }
    INFO(next_log);
    if (exited) {
        ::unlink(log_path.c_str());
        d.start();  // so the mount is served and the harness can remove it
    }
    REQUIRE_FALSE(exited);
    REQUIRE(next_log.find("attached to the live mount") != std::string::npos);
    CHECK(first_line(d.file("proc/meminfo")) == want);
    CHECK(alive(keeper));
    CHECK(keeper_of(d.mountpoint()) == keeper);
    ::kill(next, SIGTERM);  // hands over, as the kubelet's SIGTERM does
    CHECK(wait_exit(next, 5000) == 0);
    ::unlink(log_path.c_str());
    CHECK(alive(keeper));
    d.start();
    CHECK(first_line(d.file("proc/meminfo")) == want);
    CHECK(d.log().find("attached to the live mount") != std::string::npos);
}
