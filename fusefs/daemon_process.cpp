#include "fusefs/daemon_process.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include <spdlog/sinks/syslog_sink.h>

#include "platform/fs.hpp"
#include "platform/logging.hpp"

namespace procview {

int daemonize() {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return -1;
    pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid > 0) {
        ::close(pipefd[1]);
        char c = 0;
        ssize_t n = ::read(pipefd[0], &c, 1);
        std::_Exit(n == 1 ? 0 : 1);
    }
    ::close(pipefd[0]);
    ::setsid();
    return pipefd[1];
}

void report_ready(int ready_fd) {
    if (ready_fd < 0) return;
    (void)!::write(ready_fd, "1", 1);
    ::close(ready_fd);
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::close(null);
    }
}

void notify_systemd(const std::string& state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::size_t len = std::min(std::strlen(path), sizeof(addr.sun_path) - 1);
    std::memcpy(addr.sun_path, path, len);
    if (addr.sun_path[0] == '@') addr.sun_path[0] = 0;
    UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) return;
    ::sendto(sock.get(), state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
             static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
}

void raise_fd_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }
}

std::shared_ptr<spdlog::logger> make_daemon_logger(const DaemonOptions& options) {
    if (!options.foreground && options.config.log_file.empty()) {
        auto logger = std::make_shared<spdlog::logger>(
            "procviewfs", std::make_shared<spdlog::sinks::syslog_sink_mt>("procviewfs", LOG_PID, LOG_DAEMON, false));
        logger->set_level(spdlog::level::from_str(options.config.log_level));
        return logger;
    }
    return make_logger("procviewfs", options.config.log_file, options.config.log_level);
}

Pidfile Pidfile::write(const std::string& path) {
    Pidfile p;
    if (path.empty()) return p;
    std::string pid = std::to_string(::getpid()) + "\n";
    if (auto r = write_file_at(AT_FDCWD, path, pid); !r) {
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (fd) (void)!::write(fd.get(), pid.data(), pid.size());
    }
    auto slash = path.rfind('/');
    p.name_ = path.substr(slash == std::string::npos ? 0 : slash + 1);
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    if (auto opened = open_directory(AT_FDCWD, dir)) p.dir_ = std::move(*opened);
    return p;
}

void Pidfile::remove() const {
    if (dir_) ::unlinkat(dir_.get(), name_.c_str(), 0);
}

}  // namespace procview
