#include "harness.hpp"
#include "sysinfo_probe.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/catalog.hpp"

namespace pvtest {

namespace io {

void write_host(const std::string& path, const std::string& value, bool must = true) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
    int err = errno;
    if (fd >= 0) ::close(fd);
    if (!ok && must) throw std::runtime_error("write `" + value + "` to " + path + ": " + std::strerror(err));
}

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

bool read_exact(int fd, std::string& out, std::size_t n) {
    out.resize(n);
    std::size_t done = 0;
    while (done < n) {
        ssize_t r = ::read(fd, out.data() + done, n - done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        done += static_cast<std::size_t>(r);
    }
    return true;
}

// Waits up to 30 s for data: a test must fail, not hang, when a read blocks.
bool wait_readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    int n;
    do {
        n = ::poll(&p, 1, 30000);
    } while (n < 0 && errno == EINTR);
    return n > 0;
}

std::string read_line(int fd) {
    if (!wait_readable(fd)) return "ERR 110";  // ETIMEDOUT
    std::string line;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
    return line;
}

}  // namespace io

using io::read_exact;
using io::read_line;
using io::write_all;
using io::write_host;

namespace {

using procview::kFuseSuperMagic;
const char* kV1Controllers[] = {"memory", "cpu", "cpuacct", "cpuset", "pids", "blkio"};

std::string read_host(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}


bool exists(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
}

std::string cgroup_root() { return "/sys/fs/cgroup"; }

}  // namespace

bool pure_v2() { return exists(cgroup_root() + "/cgroup.controllers"); }

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

std::string unique_name(const std::string& what) { return "pvit-" + std::to_string(::getpid()) + "-" + what; }

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string unsupported_reason() {
    if (::geteuid() != 0) return "not running as root";
    if (::access("/dev/fuse", R_OK | W_OK) != 0) return "/dev/fuse is not usable";
    if (!pure_v2() && !exists(cgroup_root() + "/memory/cgroup.procs")) return "no cgroup v2 and no v1 memory controller";
    std::string probe = pure_v2() ? cgroup_root() + "/pvit-probe" : cgroup_root() + "/memory/pvit-probe";
    if (::mkdir(probe.c_str(), 0755) != 0 && errno != EEXIST) return "cannot create cgroups: " + std::string(std::strerror(errno));
    ::rmdir(probe.c_str());
    return "";
}

// ---- TestCgroup -------------------------------------------------------------

TestCgroup::TestCgroup(const std::string& name, const TestCgroup* parent) {
    path_ = (parent ? parent->path_ : std::string()) + "/" + name;
    if (pure_v2()) {
        std::string parent_dir = cgroup_root() + (parent ? parent->path_ : "");
        // Controllers must be enabled in the parent for the child to have their files.
        for (const char* c : {"+cpuset", "+cpu", "+io", "+memory", "+pids"})
            write_host(parent_dir + "/cgroup.subtree_control", c, false);
        std::string d = cgroup_root() + path_;
        if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) throw std::runtime_error("mkdir " + d + ": " + std::strerror(errno));
        dirs_.push_back(d);
        return;
    }
    for (const char* c : kV1Controllers) {
        std::string base = cgroup_root() + "/" + c;
        if (!exists(base + "/cgroup.procs")) continue;
        std::string d = base + path_;
        if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) throw std::runtime_error("mkdir " + d + ": " + std::strerror(errno));
        dirs_.push_back(d);
        if (std::string(c) == "cpuset") {
            std::string up = base + (parent ? parent->path_ : "");
            write_host(d + "/cpuset.cpus", read_host(up + "/cpuset.cpus"));
            write_host(d + "/cpuset.mems", read_host(up + "/cpuset.mems"));
        }
    }
}

TestCgroup::~TestCgroup() {
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
        // Only processes this test started are in here.
        for (int attempt = 0; attempt < 50; ++attempt) {
            std::istringstream procs(read_host(*it + "/cgroup.procs"));
            bool any = false;
            for (pid_t pid; procs >> pid;) {
                ::kill(pid, SIGKILL);
                any = true;
            }
            if (!any && ::rmdir(it->c_str()) == 0) break;
            if (!any && errno == ENOENT) break;
            sleep_ms(20);
        }
    }
}

std::string TestCgroup::dir(const std::string& controller) const {
    return pure_v2() ? cgroup_root() + path_ : cgroup_root() + "/" + controller + path_;
}

void TestCgroup::set_memory(uint64_t bytes) {
    write_host(dir("memory") + (pure_v2() ? "/memory.max" : "/memory.limit_in_bytes"), std::to_string(bytes));
}

void TestCgroup::set_quota(uint64_t quota_us, uint64_t period_us) {
    if (pure_v2()) {
        write_host(dir("cpu") + "/cpu.max", std::to_string(quota_us) + " " + std::to_string(period_us));
    } else {
        write_host(dir("cpu") + "/cpu.cfs_period_us", std::to_string(period_us));
        write_host(dir("cpu") + "/cpu.cfs_quota_us", std::to_string(quota_us));
    }
}

void TestCgroup::set_cpus(const std::string& cpus) {
    if (pure_v2()) {
        write_host(dir("cpuset") + "/cpuset.cpus", cpus);
    } else {
        write_host(dir("cpuset") + "/cpuset.cpus", cpus);
    }
}

void TestCgroup::set(const Limits& limits) {
    if (limits.memory_bytes) set_memory(*limits.memory_bytes);
    if (limits.quota_us) set_quota(*limits.quota_us, limits.period_us);
    if (limits.cpus) set_cpus(*limits.cpus);
}

void TestCgroup::add(pid_t pid) const {
    for (const auto& procs : procs_files()) write_host(procs, std::to_string(pid));
}

std::vector<std::string> TestCgroup::procs_files() const {
    std::vector<std::string> files;
    for (const auto& d : dirs_) files.push_back(d + "/cgroup.procs");
    return files;
}

// ---- Daemon -----------------------------------------------------------------

Daemon::Daemon(std::vector<std::string> extra_args, std::string mountpoint)
    : args_(std::move(extra_args)), mountpoint_(std::move(mountpoint)) {
    if (mountpoint_.empty()) {
        char tmpl[] = "/tmp/pvit-mnt.XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
        mountpoint_ = tmpl;
        own_mountpoint_ = true;
    }
    log_path_ = mountpoint_ + ".log";
    start();
}

std::string Daemon::log() const { return read_host(log_path_); }

void Daemon::start() {
    std::string bin = env_or("PROCVIEWFS_BIN", PROCVIEWFS_DEFAULT_BIN);
    std::vector<std::string> args{bin, "-f", "-d"};
    args.insert(args.end(), args_.begin(), args_.end());
    // The default listener (/run/procview/seccomp.sock) belongs to the node's daemon, not to tests.
    bool names_listener = false;
    for (const auto& a : args_) names_listener = names_listener || a.rfind("--sysinfo-listener", 0) == 0;
    if (!names_listener) args.push_back("--no-sysinfo");
    args.push_back(mountpoint_);
    // Built before the fork: the child of a threaded test process makes only
    // async-signal-safe calls before exec (container_helper.cpp says why).
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
        int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    for (int i = 0; i < 500; ++i) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("procviewfs exited at start:\n" + log());
        }
        struct statfs st{};
        if (::statfs(mountpoint_.c_str(), &st) == 0 && st.f_type == kFuseSuperMagic) {
            // --containers-only serves no proc/: a lookup answered is the sign.
            if (std::find(args_.begin(), args_.end(), "--containers-only") != args_.end()) {
                if (::access((mountpoint_ + "/containers").c_str(), F_OK) == 0) return;
                sleep_ms(10);
                continue;
            }
            std::ifstream probe(mountpoint_ + "/proc/uptime");
            std::string line;
            if (std::getline(probe, line) && !line.empty()) return;
        }
        sleep_ms(10);
    }
    throw std::runtime_error("procviewfs did not serve within 5 s:\n" + log());
}

void Daemon::kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

bool Daemon::exited_within(int timeout_ms) {
    for (int waited = 0; pid_ > 0 && waited <= timeout_ms; waited += 10) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;
            return true;
        }
        sleep_ms(10);
    }
    return pid_ <= 0;
}

void Daemon::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        sleep_ms(10);
    }
    kill9();
}

void exec_procviewfs(const std::string& log_path, const std::string& mountpoint) {
    int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ::dup2(out, 1);
    ::dup2(out, 2);
    std::string bin = env_or("PROCVIEWFS_BIN", PROCVIEWFS_DEFAULT_BIN);
    ::execl(bin.c_str(), bin.c_str(), "-f", mountpoint.c_str(), nullptr);
    std::_Exit(127);
}

bool mounted_at(const std::string& path) {
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
        std::istringstream f(line);
        std::string a, b, c, root, mp;
        f >> a >> b >> c >> root >> mp;
        if (mp == path) return true;
    }
    return false;
}

std::string read_proc_text(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return out;
}

pid_t keeper_of(const std::string& mountpoint) {
    const std::string want = std::string("procviewfs") + '\0' + "--keeper" + '\0' + mountpoint + '\0';
    pid_t found = -1;
    DIR* dir = ::opendir("/proc");
    while (auto* e = dir ? ::readdir(dir) : nullptr) {
        pid_t pid = std::atoi(e->d_name);
        if (pid > 0 && read_proc_text("/proc/" + std::string(e->d_name) + "/cmdline").rfind(want, 0) == 0) found = pid;
    }
    if (dir) ::closedir(dir);
    return found;
}

int Daemon::unmount() {
    std::string bin = env_or("PROCVIEWFS_BIN", PROCVIEWFS_DEFAULT_BIN);
    int rc = std::system((bin + " --unmount " + mountpoint_ + " >>" + log_path_ + " 2>&1").c_str());
    // A serving daemon is retired by it: reap it (it exits just after dropping its lock).
    for (int i = 0; i < 200 && pid_ > 0; ++i) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) pid_ = -1;
        else sleep_ms(10);
    }
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Daemon::~Daemon() {
    pid_t keeper = keeper_of(mountpoint_);
    stop();
    // A stopped daemon leaves the mount to its keeper: remove both, as an
    // admin would. The lazy unmount is the fallback (a keeper then exits by itself).
    (void)unmount();
    ::umount2(mountpoint_.c_str(), MNT_DETACH);
    // Wait for the keeper, so no test leaves it running for the next one (or
    // for the v2 lane's leftover check) to find.
    auto keeper_running = [&] {
        return read_proc_text("/proc/" + std::to_string(keeper) + "/cmdline").find("--keeper") != std::string::npos;
    };
    for (int i = 0; i < 300 && keeper > 0 && keeper_running(); ++i) sleep_ms(10);
    if (own_mountpoint_) ::rmdir(mountpoint_.c_str());
    ::unlink(log_path_.c_str());
}

// ---- Container --------------------------------------------------------------
Container::Container(const TestCgroup& cgroup) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw std::runtime_error("socketpair");
    // Everything the child needs is built before the fork: between fork and
    // exec it makes only async-signal-safe calls (container_helper.cpp says why).
    std::vector<std::string> args{"/proc/self/exe", kContainerHelperFlag, std::to_string(sv[1])};
    for (const auto& procs : cgroup.procs_files()) args.push_back(procs);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    helper_pid_ = ::fork();
    if (helper_pid_ < 0) throw std::runtime_error("fork");
    if (helper_pid_ == 0) {
        ::fcntl(sv[1], F_SETFD, 0);  // the helper's end survives the exec
        ::execv(argv[0], argv.data());
        static const char failed[] = "0 cannot re-execute the test binary as a container helper\n";
        (void)!::write(sv[1], failed, sizeof failed - 1);
        ::_exit(127);
    }
    ::close(sv[1]);
    sock_ = sv[0];
    std::string hello = read_line(sock_);
    init_pid_ = std::atoi(hello.c_str());
    if (init_pid_ <= 0) throw std::runtime_error("container start failed: " + hello);
    wait_until_idle();
}

// The helper and the init are in the container's cgroup: a test's first
// load sample must not catch the helper still on its way to waitpid (an
// emulated CPU makes that window long enough to read as a load of 1).
void Container::wait_until_idle() const {
    auto sleeping = [](pid_t pid) {
        std::string stat = read_proc_text("/proc/" + std::to_string(pid) + "/stat");
        auto close = stat.rfind(')');
        return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] == 'S';
    };
    for (int i = 0; i < 200 && !(sleeping(helper_pid_) && sleeping(init_pid_)); ++i) sleep_ms(5);
}

Container::~Container() {
    write_all(sock_, "idle\n");
    write_all(sock_, "exit\n");
    ::close(sock_);
    if (helper_reaped_) return;  // its init is gone too: never signal a pid that may be reused
    for (int i = 0; i < 200; ++i) {
        if (::waitpid(helper_pid_, nullptr, WNOHANG) == helper_pid_) return;
        sleep_ms(10);
    }
    ::kill(init_pid_, SIGKILL);
    ::waitpid(helper_pid_, nullptr, 0);
}

std::string Container::gone_reason() {
    int status = 0;
    for (int i = 0; i < 100 && !helper_reaped_; ++i) {
        if (::waitpid(helper_pid_, &status, WNOHANG) == helper_pid_) helper_reaped_ = true;
        else sleep_ms(10);
    }
    if (!helper_reaped_) return "container gone: its init still runs but closed its socket";
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code > 128) {
        return "container gone: its init was killed by signal " + std::to_string(code - 128) +
               (code - 128 == SIGKILL ? " (an OOM kill in its cgroup? see dmesg)" : "");
    }
    return "container gone: its init exited with status " + std::to_string(code);
}

std::string Container::request(const std::string& command) {
    if (!write_all(sock_, command + "\n")) throw std::runtime_error(command + ": " + gone_reason());
    std::string head = read_line(sock_);
    if (head.empty()) throw std::runtime_error(command + ": " + gone_reason());
    if (head.rfind("ERR ", 0) == 0) {
        int err = std::atoi(head.c_str() + 4);
        throw std::runtime_error(command + ": " + std::strerror(err));
    }
    if (head.rfind("OK ", 0) != 0) throw std::runtime_error(command + ": bad reply `" + head + "`");
    std::string body;
    if (!read_exact(sock_, body, std::stoull(head.substr(3)))) throw std::runtime_error(command + ": " + gone_reason());
    return body;
}

std::string Container::read(const std::string& path, std::size_t chunk) {
    return request("read " + std::to_string(chunk) + " " + path);
}

std::pair<std::string, std::string> Container::read_twice_same_fd(const std::string& path) {
    std::string body = request("twice 131072 " + path);
    auto nl = body.find('\n');
    std::size_t first = std::stoull(body.substr(0, nl));
    return {body.substr(nl + 1, first), body.substr(nl + 1 + first)};
}

int Container::open_errno(const std::string& path, int flags) {
    return std::stoi(request("open " + std::to_string(flags) + " " + path));
}

std::vector<std::string> Container::list(const std::string& dir) { return lines(request("list " + dir)); }
std::string Container::read_sendfile(const std::string& path) { return request("sendfile " + path); }
void Container::busy(int processes) { request("busy " + std::to_string(processes)); }
void Container::idle() { request("idle"); }
std::string Container::notify_sysinfo(const std::string& listener, const std::string& name) {
    return request("notify " + listener + " " + name);
}
std::string Container::sysinfo(int count) { return request("sysinfo " + std::to_string(count)); }
std::string Container::sysinfo_latency(int count) { return request("sysinfo_latency " + std::to_string(count)); }
void Container::sysinfo_flood(int processes) { request("sysinfo_flood " + std::to_string(processes)); }

// ---- parsing helpers --------------------------------------------------------

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::optional<uint64_t> meminfo_kb(const std::string& meminfo, const std::string& key) {
    for (const auto& line : lines(meminfo)) {
        if (line.rfind(key + ":", 0) != 0) continue;
        std::istringstream in(line.substr(key.size() + 1));
        uint64_t v = 0;
        if (in >> v) return v;
    }
    return std::nullopt;
}

int count_prefix(const std::string& text, const std::string& prefix) {
    int n = 0;
    for (const auto& line : lines(text))
        if (line.rfind(prefix, 0) == 0) ++n;
    return n;
}

CpuLine stat_cpu_total(const std::string& stat) {
    for (const auto& line : lines(stat)) {
        if (line.rfind("cpu ", 0) != 0) continue;
        std::istringstream in(line.substr(4));
        std::vector<uint64_t> f;
        for (uint64_t v; in >> v;) f.push_back(v);
        CpuLine out;
        for (std::size_t i = 0; i < f.size() && i < 8; ++i) out.total += f[i];
        uint64_t idle = f.size() > 3 ? f[3] : 0, iowait = f.size() > 4 ? f[4] : 0;
        out.busy = out.total - idle - iowait;
        return out;
    }
    return {};
}

}  // namespace pvtest
