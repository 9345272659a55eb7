// What config/systemd/procviewfs.service relies on, without a running
// systemd: procviewfs speaks the notify protocol on $NOTIFY_SOCKET, and on
// `systemctl reload` (ExecReload=procviewfs --takeover) the new instance
// announces itself as MAINPID before the old main process exits — otherwise
// systemd would see its main process die, stop the unit and restart it.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace pvtest;

namespace {

using Clock = std::chrono::steady_clock;

struct Message {
    Clock::time_point at;
    std::string text;
};

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
public:
    NotifySocket() {
        char tmpl[] = "/tmp/pvhard-notify.XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
        dir_ = tmpl;
        path_ = dir_ + "/notify";
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind");
    }
    ~NotifySocket() {
        ::close(fd_);
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }
    // Everything queued now.
    void drain(std::vector<Message>& into) const {
        char buf[4096];
        for (ssize_t n; (n = ::recv(fd_, buf, sizeof buf, 0)) > 0;)
            into.push_back({Clock::now(), std::string(buf, static_cast<std::size_t>(n))});
    }

private:
    std::string dir_, path_;
    int fd_ = -1;
};

// The pid in "MAINPID=N" of the first message announcing one, or -1.
pid_t announced_pid(const std::vector<Message>& messages, std::size_t from = 0) {
    for (std::size_t i = from; i < messages.size(); ++i)
        if (auto at = messages[i].text.find("MAINPID="); at != std::string::npos)
            return std::atoi(messages[i].text.c_str() + at + 8);
    return -1;
}

// A child of ours that exited but is not reaped yet.
bool zombie(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return true;
    auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

struct EnvVar {
    explicit EnvVar(const std::string& value) { ::setenv("NOTIFY_SOCKET", value.c_str(), 1); }
    ~EnvVar() { ::unsetenv("NOTIFY_SOCKET"); }
};

}  // namespace

TEST_CASE("systemd: READY=1 and MAINPID on start; on --takeover the new main PID is announced before the old exits") {
    if (auto why = unsupported_reason(); !why.empty()) {
        MESSAGE("SKIP (systemd protocol): " << why);
        return;
    }
    NotifySocket notify;
    EnvVar env(notify.path());
    std::vector<Message> messages;

    Daemon d;
    for (int i = 0; i < 100 && announced_pid(messages) < 0; ++i) {
        notify.drain(messages);
        sleep_ms(10);
    }
    REQUIRE(!messages.empty());
    CHECK(messages.front().text.find("READY=1") != std::string::npos);
    CHECK(announced_pid(messages) == d.pid());

    // ExecReload: procviewfs --takeover, daemonizing (returns once it serves).
    std::string pidfile = d.mountpoint() + ".takeover.pid";
    std::string bin = env_or("PROCVIEWFS_BIN", PROCVIEWFS_DEFAULT_BIN);
    std::size_t before = messages.size();
    pid_t reload = ::fork();
    REQUIRE(reload >= 0);
    if (reload == 0) {
        std::string log = d.mountpoint() + ".takeover.log";
        ::execl(bin.c_str(), bin.c_str(), "--takeover", "-d", "--log-file", log.c_str(), "-p", pidfile.c_str(),
                d.mountpoint().c_str(), static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    // Watch, millisecond by millisecond, for the new MAINPID and the old main's exit.
    Clock::time_point old_exited{}, deadline = Clock::now() + std::chrono::seconds(10);
    int reload_status = -1;
    while (Clock::now() < deadline && (old_exited == Clock::time_point{} || reload_status < 0)) {
        notify.drain(messages);
        if (old_exited == Clock::time_point{} && zombie(d.pid())) old_exited = Clock::now();
        int status = 0;
        if (reload_status < 0 && ::waitpid(reload, &status, WNOHANG) == reload) reload_status = status;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    notify.drain(messages);
    CHECK_MESSAGE(reload_status == 0, "procviewfs --takeover exit status " << reload_status);
    pid_t new_main = announced_pid(messages, before);
    std::ifstream in(pidfile);
    pid_t served_by = 0;
    in >> served_by;
    CHECK(new_main > 0);
    CHECK(new_main == served_by);
    REQUIRE(old_exited != Clock::time_point{});
    Clock::time_point announced{};
    for (std::size_t i = before; i < messages.size(); ++i)
        if (messages[i].text.find("MAINPID=") != std::string::npos) {
            announced = messages[i].at;
            break;
        }
    REQUIRE(announced != Clock::time_point{});
    MESSAGE("new MAINPID seen " << std::chrono::duration_cast<std::chrono::microseconds>(old_exited - announced).count()
                                << " µs before the old main process exited");
    // The message was sent before we saw it, so "seen before the exit" is a safe check.
    CHECK_MESSAGE(announced <= old_exited, "the old main process exited "
                                               << std::chrono::duration_cast<std::chrono::microseconds>(announced - old_exited).count()
                                               << " µs before the new MAINPID was announced");
    if (served_by > 0) ::kill(served_by, SIGTERM);
    for (int i = 0; i < 200 && served_by > 0 && ::kill(served_by, 0) == 0; ++i) sleep_ms(10);
    ::unlink(pidfile.c_str());
    ::unlink((d.mountpoint() + ".takeover.log").c_str());
}
