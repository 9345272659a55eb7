#include "fault_reader.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace pvfault {
namespace {

bool write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

bool wait_readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    int n;
    do {
        n = ::poll(&p, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    return n > 0;
}

// One line, without the newline; "" on EOF.
std::string read_line(int fd) {
    std::string line;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
    return line;
}

std::string read_to_eof(int fd, int& err) {
    std::string out;
    char buf[65536];
    err = 0;
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            err = errno;
            return out;
        }
        if (n == 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

std::string reply(int err, const std::string& body = "") {
    if (err) return "ERR " + std::to_string(err) + "\n";
    return "OK " + std::to_string(body.size()) + "\n" + body;
}

[[noreturn]] void held_reader_init(int sock) {
    std::map<int, int> fds;
    int next = 0;
    for (;;) {
        std::string line = read_line(sock);
        if (line.empty() || line == "exit") std::_Exit(0);
        std::istringstream in(line);
        std::string cmd;
        in >> cmd;
        std::string out;
        if (cmd == "open") {
            std::string path;
            std::getline(in >> std::ws, path);
            int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                out = reply(errno);
            } else {
                fds[next] = fd;
                out = reply(0, std::to_string(next++));
            }
        } else if (cmd == "reread") {
            int slot = -1;
            in >> slot;
            auto it = fds.find(slot);
            if (it == fds.end()) {
                out = reply(EBADF);
            } else {
                int err = 0;
                std::string body = ::lseek(it->second, 0, SEEK_SET) == 0 ? read_to_eof(it->second, err) : "";
                out = reply(err, body);
            }
        } else if (cmd == "close") {
            int slot = -1;
            in >> slot;
            if (auto it = fds.find(slot); it != fds.end()) {
                ::close(it->second);
                fds.erase(it);
            }
            out = reply(0);
        } else {
            out = reply(EINVAL);
        }
        if (!write_all(sock, out)) std::_Exit(1);
    }
}

}  // namespace

// Forks a helper that joins `cgroup`, unshares its pid namespace and forks
// pid 1, which runs `body`; returns {helper, pid 1's host pid}.
Spinner fork_in_namespace(const pvtest::TestCgroup& cgroup, const std::function<void()>& body) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    pid_t helper = ::fork();
    if (helper < 0) throw std::runtime_error("fork");
    if (helper == 0) {
        ::close(pipefd[0]);
        try {
            cgroup.add(::getpid());
        } catch (...) {
            std::_Exit(1);
        }
        if (::unshare(CLONE_NEWPID) != 0) std::_Exit(1);
        pid_t init = ::fork();
        if (init == 0) {
            ::close(pipefd[1]);
            body();
            std::_Exit(0);
        }
        (void)!::write(pipefd[1], &init, sizeof init);
        ::close(pipefd[1]);
        int status = 0;
        ::waitpid(init, &status, 0);
        std::_Exit(0);
    }
    ::close(pipefd[1]);
    pid_t init = -1;
    bool ok = wait_readable(pipefd[0], 10000) && ::read(pipefd[0], &init, sizeof init) == sizeof init;
    ::close(pipefd[0]);
    if (!ok || init <= 0) {
        ::kill(helper, SIGKILL);
        ::waitpid(helper, nullptr, 0);
        throw std::runtime_error("reader namespace did not start");
    }
    return {helper, init};
}

HeldReader::HeldReader(const pvtest::TestCgroup& cgroup) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw std::runtime_error("socketpair");
    int child_end = sv[1], our_end = sv[0];
    Spinner s = fork_in_namespace(cgroup, [child_end, our_end] {
        ::close(our_end);  // so that our close reads as EOF there
        held_reader_init(child_end);
    });
    ::close(sv[1]);
    sock_ = sv[0];
    helper_pid_ = s.helper;
    init_pid_ = s.init;
}

HeldReader::~HeldReader() {
    write_all(sock_, "exit\n");
    ::close(sock_);
    for (int i = 0; i < 200; ++i) {
        if (::waitpid(helper_pid_, nullptr, WNOHANG) == helper_pid_) return;
        pvtest::sleep_ms(10);
    }
    ::kill(init_pid_, SIGKILL);
    ::waitpid(helper_pid_, nullptr, 0);
}

std::string HeldReader::request(const std::string& command, int timeout_ms) {
    if (!write_all(sock_, command + "\n")) return "ERR " + std::to_string(EPIPE);
    if (!wait_readable(sock_, timeout_ms)) return "ERR " + std::to_string(ETIMEDOUT);
    std::string head = read_line(sock_);
    if (head.rfind("OK ", 0) != 0) return head;
    std::size_t n = std::stoull(head.substr(3));
    std::string body(n, '\0');
    std::size_t done = 0;
    while (done < n) {
        ssize_t r = ::read(sock_, body.data() + done, n - done);
        if (r <= 0) return "ERR " + std::to_string(EPIPE);
        done += static_cast<std::size_t>(r);
    }
    return "OK " + body;
}

int HeldReader::open(const std::string& path) {
    std::string r = request("open " + path, 10000);
    if (r.rfind("OK ", 0) == 0) return std::stoi(r.substr(3));
    return r.rfind("ERR ", 0) == 0 ? -std::atoi(r.c_str() + 4) : -EPROTO;
}

ReadResult HeldReader::reread(int slot) {
    std::string r = request("reread " + std::to_string(slot), 10000);
    if (r.rfind("OK ", 0) == 0) return {0, r.substr(3)};
    return {r.rfind("ERR ", 0) == 0 ? std::atoi(r.c_str() + 4) : EPROTO, ""};
}

void HeldReader::close(int slot) { (void)request("close " + std::to_string(slot), 10000); }

ReadResult HeldReader::read(const std::string& path) {
    int slot = open(path);
    if (slot < 0) return {-slot, ""};
    ReadResult r = reread(slot);
    close(slot);
    return r;
}

void HeldReader::move_to(const pvtest::TestCgroup& other) const {
    other.add(helper_pid_);
    other.add(init_pid_);
}

Spinner spawn_spinner(const pvtest::TestCgroup& cgroup, const std::string& path, std::size_t chunk) {
    return fork_in_namespace(cgroup, [path, chunk] {
        std::vector<char> buf(chunk);
        for (;;) {
            int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            while (::read(fd, buf.data(), buf.size()) > 0) {
            }
            ::close(fd);
        }
    });
}

long kill_spinner(const Spinner& s) {
    auto t0 = std::chrono::steady_clock::now();
    ::kill(s.init, SIGKILL);
    ::waitpid(s.helper, nullptr, 0);
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
}

long kill_spinner(const Spinner& s, long bound_ms) {
    auto t0 = std::chrono::steady_clock::now();
    ::kill(s.init, SIGKILL);
    for (;;) {
        long ms = static_cast<long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
        if (::waitpid(s.helper, nullptr, WNOHANG) == s.helper) return ms;
        if (ms >= bound_ms) return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

Usage usage_of(pid_t pid) {
    Usage u;
    std::string base = "/proc/" + std::to_string(pid);
    if (DIR* d = ::opendir((base + "/fd").c_str())) {
        while (auto* e = ::readdir(d))
            if (e->d_name[0] != '.') ++u.fds;
        ::closedir(d);
    }
    std::ifstream status(base + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("Threads:", 0) == 0) u.threads = std::atoi(line.c_str() + 8);
        if (line.rfind("VmRSS:", 0) == 0) u.rss_kb = std::atol(line.c_str() + 6);
    }
    return u;
}

int count(const std::string& text, const std::string& needle) {
    int n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
    return n;
}

}  // namespace pvfault
