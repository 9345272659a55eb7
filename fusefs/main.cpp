// procviewfs — makes a container's /proc and /sys look like the machine it was given.
//
//   # procviewfs /var/lib/procview                  # daemonizes once the mount serves
//   # grep MemTotal /var/lib/procview/proc/meminfo  # a host reader sees the host
//   MemTotal:       24539124 kB
//   # mkdir /sys/fs/cgroup/memory/demo && echo 256M > /sys/fs/cgroup/memory/demo/memory.limit_in_bytes
//   # echo $$ > /sys/fs/cgroup/memory/demo/cgroup.procs
//   # unshare --pid --fork grep MemTotal /var/lib/procview/proc/meminfo
//   MemTotal:         262144 kB
//   # docker run -v /var/lib/procview/proc/meminfo:/proc/meminfo:ro ...   # or procview-hook
//
// Start-up: parse options → find the cgroup hierarchies → take the instance
// lock → attach to the live mount of a previous instance (via its keeper) or
// mount afresh → serve until SIGTERM/SIGINT (hand over: exit, leaving the
// mount and its connection to the keeper for the next instance) or until a
// newer instance takes over (--takeover). `procviewfs --unmount` removes it.

#include <fuse_lowlevel.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/sinks/syslog_sink.h>

#include "fusefs/cgroup_layout.hpp"
#include "fusefs/container.hpp"
#include "fusefs/filesystem.hpp"
#include "fusefs/host_files.hpp"
#include "fusefs/keeper.hpp"
#include "fusefs/load_sampler.hpp"
#include "fusefs/options.hpp"
#include "fusefs/request_loops.hpp"
#include "fusefs/seccomp.hpp"
#include "fusefs/session.hpp"
#include "fusefs/stat_records.hpp"
#include "fusefs/sysinfo_agent.hpp"
#include "fusefs/unmount.hpp"
#include "fusefs/unix_message.hpp"
#include "fusefs/view_engine.hpp"
#include "platform/fs.hpp"
#include "platform/logging.hpp"

using namespace procview;

namespace {

// Forks; the parent exits 0 once the child reports that the mount serves, 1 if
// the child dies first. Returns the fd the child reports readiness on.
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

// systemd's readiness protocol, without linking libsystemd.
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
    // Each container read keeps a few cgroup files open (pread at 0 is the hot path).
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

// Everything the running daemon shares between its threads.
struct Daemon {
    std::string mountpoint;
    fuse_session* session = nullptr;
    FuseConnection connection;
    std::string init_request;        // as first seen, for a respawned keeper
    std::mutex keeper_mu;            // guards connection.keeper
    std::atomic<bool> retiring{false};
    std::atomic<bool> stopping{false};  // shutting down: the keeper's exit is expected
    std::atomic<bool> loop_done{false};  // the request loop has returned
    std::atomic<bool> keeper_lost{false};  // the keeper died and none could be respawned
    RequestLoops* loops = nullptr;         // set before any thread that stops them starts
    // Stopped before the loops: its invalidations can wait on page and
    // directory locks that only a served request releases.
    CachedViews* containers = nullptr;
    bool foreground = false;
    std::shared_ptr<spdlog::logger> log;
};

// Blocks the signals meant for the request loop in the calling thread for
// its lifetime, so threads started meanwhile never receive them.
class ControlSignalsBlocked {
public:
    ControlSignalsBlocked() {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, kStopLoopSignal);
        pthread_sigmask(SIG_BLOCK, &set, &saved_);
    }
    ~ControlSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
    ControlSignalsBlocked(const ControlSignalsBlocked&) = delete;
    ControlSignalsBlocked& operator=(const ControlSignalsBlocked&) = delete;

private:
    sigset_t saved_{};
};

// Listens to the keeper: RETIRE means a newer instance serves now; EOF means
// the keeper died, and a new one is spawned so the mount keeps a holder.
void watch_keeper(Daemon& d) {
    for (;;) {
        int fd;
        {
            std::lock_guard lock(d.keeper_mu);
            fd = d.connection.keeper.get();
        }
        auto message = fd >= 0 ? receive_message(fd) : std::nullopt;
        if (d.retiring || d.stopping) return;
        if (message && message->command == "RETIRE") {
            d.log->info("retired: a newer procviewfs serves {} now, or --unmount removes it", d.mountpoint);
            d.retiring = true;
            if (d.containers) d.containers->stop();
            d.loops->stop();  // each loop answers what it holds first (request_loops.hpp)
            return;
        }
        if (message) continue;
        d.log->error("the keeper of {} died; spawning a new one", d.mountpoint);
        auto sock = respawn_keeper(d.connection.master.get(), d.mountpoint, d.init_request, d.foreground);
        if (!sock) {
            d.log->error("cannot respawn the keeper: {}; the mount now lives only as long as this process",
                         sock.error().describe());
            d.keeper_lost = true;
            return;
        }
        std::lock_guard lock(d.keeper_mu);
        d.connection.keeper = std::move(*sock);
    }
}

// The sysinfo agent's fds and in-flight record live with the keeper too
// (keeper_seccomp.hpp): take over what a previous daemon left there, and
// give the keeper every fd accepted from now on.
std::optional<InflightRecord> hand_over_sysinfo(Daemon& d, SysinfoAgent& agent) {
    std::optional<InflightRecord> record;
    if (!d.connection.fresh) {
        auto held = fetch_keeper_seccomp(d.connection.keeper.get());
        if (!held) {
            d.log->warn("sysinfo agent: {}", held.error().describe());
        } else {
            for (auto& [fd, name] : held->fds)
                if (auto r = agent.adopt(std::move(fd), name); !r) d.log->warn("sysinfo agent: {}", r.error().describe());
            if (held->inflight)
                if (auto adopted = InflightRecord::adopt(std::move(*held->inflight))) record.emplace(std::move(*adopted));
            d.log->info("sysinfo agent: took over {} container(s) from the previous instance", held->fds.size());
        }
    }
    if (!record) {
        auto created = InflightRecord::create();
        if (!created) {
            d.log->warn("sysinfo agent: {}", created.error().describe());
        } else {
            record.emplace(std::move(*created));
            (void)send_message(d.connection.keeper.get(), "INFLIGHT", "", record->fd());
        }
    }
    if (record) agent.set_inflight(record->slot());
    agent.set_on_new_fd([&d](int fd, const std::string& name) {
        std::lock_guard lock(d.keeper_mu);
        if (!send_message(d.connection.keeper.get(), "SECCOMP", name, fd))
            d.log->warn("sysinfo agent: could not give {}'s fd to the keeper; a restart will break its sysinfo", name);
    });
    return record;
}

int run(const DaemonOptions& options) {
    auto log = make_daemon_logger(options);
    const Config& cfg = options.config;
    raise_fd_limit();
    ::signal(SIGCHLD, SIG_IGN);  // the keeper we spawn is reaped by the kernel, never a zombie
    ::signal(SIGPIPE, SIG_IGN);  // a closed socket is an error return, not our death
    // Blocked in every thread, taken by StopSignalWaiter (request_loops.hpp).
    const sigset_t stop_signals_set = block_stop_signals();

    Result<CgroupLayout> layout = cfg.cgroup_root.empty()
                                      ? [&]() -> Result<CgroupLayout> {
                                            auto text = read_file("/proc/self/mountinfo");
                                            if (!text) return text.error();
                                            return CgroupLayout::discover(*text);
                                        }()
                                      : CgroupLayout::from_directory(cfg.cgroup_root);
    if (!layout) {
        log->error("cannot find the cgroup hierarchies: {}", layout.error().describe());
        return 1;
    }
    log->info("cgroups: {}", layout->describe());
    auto host = HostFiles::open(cfg.proc_root, cfg.sys_cpu_root, log);
    if (!host) {
        log->error("{}", host.error().describe());
        return 1;
    }
    auto registry = ContainerRegistry::create(*layout, log, options.fixed_cgroup, cfg.max_containers);
    if (!registry) {
        log->error("{}", registry.error().describe());
        return 1;
    }
    ViewEngine engine(**host, layout->changes(), ViewOptions{cfg.swap, cfg.loadavg, cfg.cpu_quota}, log);
    Filesystem fs(**registry, engine, **host, log, cfg.max_open_per_container, cfg.max_open);
    CachedViews containers(**registry, engine, CachedViewsOptions{cfg.cache_window_ms, cfg.max_containers}, log);
    fs.containers = &containers;
    fs.containers_only = options.containers_only;

    int ready_fd = options.foreground ? -1 : daemonize();

    // Before the seccomp filter, which allows no new stream socket.
    std::unique_ptr<SysinfoAgent> agent;
    if (cfg.sysinfo) {
        agent = std::make_unique<SysinfoAgent>(**registry, engine, log, cfg.max_containers);
        if (auto r = agent->listen(cfg.sysinfo_listener_path, options.takeover); !r) {
            log->warn("not answering sysinfo: {}", r.error().describe());
            agent.reset();
        }
    }

    auto lock = acquire_instance_lock(cfg.mountpoint, false, 0);
    if (!lock && !options.takeover) {
        log->error("{} (use --takeover to replace it)", lock.error().describe());
        std::cerr << "procviewfs: " << lock.error().describe() << " (use --takeover to replace it)\n";
        return 1;
    }

    Daemon d;
    d.mountpoint = cfg.mountpoint;
    d.log = log;
    d.foreground = options.foreground;
    auto attached = attach_to_keeper(cfg.mountpoint, *log);
    if (attached) {
        d.connection = std::move(*attached);
    } else if (options.takeover && !lock) {
        log->error("--takeover: {}", attached.error().describe());
        return 1;
    } else if (int e = attached.error().errnum; e != ENOENT && e != ECONNREFUSED && e != ECONNRESET && e != EPIPE) {
        // Not "no keeper" (EPERM: something else listens where our keeper
        // should, never believed): the mount next to it is not ours to replace.
        log->error("{}", attached.error().describe());
        std::cerr << "procviewfs: " << attached.error().describe() << "\n";
        return 1;
    } else {
        log->debug("no keeper: {}", attached.error().describe());
        auto fresh = mount_fresh(cfg.mountpoint, *log, options.foreground);
        if (!fresh) {
            log->error("{}", fresh.error().describe());
            std::cerr << "procviewfs: " << fresh.error().describe() << "\n";
            return 1;
        }
        d.connection = std::move(*fresh);
    }

    std::string argv0 = "procviewfs";
    char* fuse_argv[] = {argv0.data(), nullptr};
    fuse_args args = FUSE_ARGS_INIT(1, fuse_argv);
    d.session = fuse_session_new(&args, &Filesystem::operations(), sizeof(fuse_lowlevel_ops), &fs);
    fuse_opt_free_args(&args);  // option parsing replaced argv with an allocated copy
    if (!d.session) {
        log->error("fuse_session_new failed");
        return 1;
    }
    std::string device = "/dev/fd/" + std::to_string(d.connection.worker.get());
    if (fuse_session_mount(d.session, device.c_str()) != 0) {
        log->error("cannot serve {}", device);
        return 1;
    }
    d.connection.worker.release();  // the session owns it now
    containers.set_session(d.session);
    RequestLoops loops(d.session);
    d.loops = &loops;
    d.containers = &containers;
    RequestLoops::install_signal_handler();
    // From here a stop signal ends the loops between requests; one that came
    // earlier was kept pending (blocked since the start of run) and acts now.
    StopSignalWaiter stop_signals(stop_signals_set, [&d](int sig) {
        d.log->info("{}: stopping between requests", strsignal(sig));
        if (d.containers) d.containers->stop();
        d.loops->stop();
    });

    if (d.connection.fresh) {
        // The kernel's first request on a new connection is INIT: keep a copy
        // for whoever takes this connection over later.
        fuse_buf buf{};
        int n = fuse_session_receive_buf(d.session, &buf);
        if (n <= 0) {
            log->error("no INIT from the kernel: {}", std::strerror(-n));
            return 1;
        }
        d.init_request.assign(static_cast<const char*>(buf.mem), static_cast<std::size_t>(n));
        // Answered only once the keeper has it: a daemon killed before the
        // keeper stored it must not have made the connection live.
        if (auto r = store_init_with_keeper(d.connection.keeper.get(), d.init_request); !r)
            log->warn("{}; a later procviewfs cannot take this mount over", r.error().describe());
        buf.size = static_cast<std::size_t>(n);
        fuse_session_process_buf(d.session, &buf);
        std::free(buf.mem);
    } else {
        d.init_request = d.connection.init_request;
        fuse_buf buf{};
        buf.mem = d.connection.init_request.data();
        buf.size = d.connection.init_request.size();
        fuse_session_process_buf(d.session, &buf);
        // The requests a killed predecessor read and never answered are still
        // held (the keeper kept its fd): have them sent again, to us. Not on
        // --takeover: the running instance answers its own.
        if (d.connection.resend && !options.takeover) {
            if (auto r = request_resend(d.connection.master.get()); !r) log->warn("{}", r.error().describe());
            else log->debug("asked the kernel to resend the requests the previous instance held");
        }
    }
    // systemd must learn the new main pid before the old one exits on RETIRE,
    // or it takes the exit for the service dying.
    if (!d.connection.fresh) notify_systemd("MAINPID=" + std::to_string(::getpid()));
    (void)tell_keeper(d.connection.keeper.get(), "SERVING");
    if (!lock) lock = acquire_instance_lock(cfg.mountpoint, true, 5000);  // the old instance is retiring
    if (!lock) log->warn("{}", lock.error().describe());
    // After the previous instance is gone (the lock), before the watcher reads the keeper's socket.
    // (Destroyed before `agent`, whose thread uses it: agent->stop() below comes first.)
    std::optional<InflightRecord> inflight = agent ? hand_over_sysinfo(d, *agent) : std::nullopt;

    if (!options.pidfile.empty()) {
        std::string pid = std::to_string(::getpid()) + "\n";
        if (auto r = write_file_at(AT_FDCWD, options.pidfile, pid); !r) {
            int fd = ::open(options.pidfile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) {
                (void)!::write(fd, pid.data(), pid.size());
                ::close(fd);
            }
        }
    }
    // Held so that the pidfile's removal at exit is one unlinkat the seccomp filter can pin to this fd.
    auto pidfile_slash = options.pidfile.rfind('/');
    std::string pidfile_name = options.pidfile.substr(pidfile_slash == std::string::npos ? 0 : pidfile_slash + 1);
    UniqueFd pidfile_dir;
    if (!options.pidfile.empty()) {
        std::string dir = pidfile_slash == std::string::npos ? "." : options.pidfile.substr(0, pidfile_slash + 1);
        if (auto opened = open_directory(AT_FDCWD, dir)) pidfile_dir = std::move(*opened);
    }
    // Per-container /proc/stat state that a restart must continue (stat_records.hpp).
    std::unique_ptr<StatRecordStore> records;
    if (auto store = StatRecordStore::open(stat_record_dir(cfg.mountpoint), cfg.max_containers, log)) {
        records = std::move(*store);
        engine.keep_stat_records(records.get());
    } else {
        log->warn("/proc/stat counters will restart with the daemon: {}", store.error().describe());
    }
    LoadSampler sampler(**registry, engine, cfg.loadavg);
    std::thread watcher;
    {
        // Only the request loops' threads may take kStopLoopSignal: threads
        // inherit the mask they are created with.
        ControlSignalsBlocked blocked;
        sampler.start();
        containers.start();
        // With one request loop, first lookups of a container go to the
        // setup worker; with several, the other threads serve meanwhile.
        if (cfg.threads == 0) fs.setup.start();
        watcher = std::thread([&d] { watch_keeper(d); });
        if (agent) agent->start();
    }
    log->info("serving {} ({})", cfg.mountpoint, d.connection.fresh ? "new mount" : "taken over from a previous instance");
    report_ready(ready_fd);
    notify_systemd("READY=1\nMAINPID=" + std::to_string(::getpid()));
    if (cfg.seccomp) {
        DaemonFilterOptions filter{.log_only = false, 
                                   .pidfile_dir_fd = pidfile_dir.get(),
                                   .sysinfo_listener_fd = agent ? agent->listener_fd() : -1,
                                   .records_dir_fd = records ? records->directory_fd() : -1,
                                   .records_parent_fd = records ? records->parent_fd() : -1};
        if (auto r = install_daemon_seccomp_filter(filter); !r) log->warn("serving without a seccomp filter: {}", r.error().describe());
    }

    // --threads N: N loops reading the same fd (0 and 1 both mean one).
    int rc = loops.run(std::max(1u, cfg.threads));
    d.loop_done = true;
    d.stopping = true;
    fs.setup.stop();  // requests it holds are answered before the session goes
    if (agent) agent->stop();
    sampler.stop();
    containers.stop();  // before the session goes: its thread writes invalidations to it
    if (!d.retiring && !d.keeper_lost) {
        // Hand over: requests queued from now on wait in the kernel for the
        // next procviewfs, which attaches to the keeper (`systemctl restart`).
        log->info("stopped; the keeper holds {} for the next procviewfs (remove it with --unmount)", cfg.mountpoint);
    } else if (!d.retiring) {
        // Nobody else holds the connection: it ends with us, so do not leave an ENOTCONN mount.
        log->info("unmounting {}", cfg.mountpoint);
        ::umount2(cfg.mountpoint.c_str(), MNT_DETACH);
        if (records) records->remove_all();
    }
    // Wake the watcher (its read returns once the keeper is gone or we close our end).
    {
        std::lock_guard guard(d.keeper_mu);
        ::shutdown(d.connection.keeper.get(), SHUT_RDWR);
    }
    watcher.join();
    fuse_session_destroy(d.session);
    if (pidfile_dir) ::unlinkat(pidfile_dir.get(), pidfile_name.c_str(), 0);
    return rc < 0 && !d.retiring ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 5 && std::strcmp(argv[1], "--keeper") == 0)
        return run_keeper(std::atoi(argv[3]), std::atoi(argv[4]), argv[2]);

    std::vector<std::string> args(argv + 1, argv + argc);
    struct stat st{};
    bool default_config = ::stat(std::string(kDefaultConfigPath).c_str(), &st) == 0;
    auto options = parse_daemon_options(args, [](const std::string& p) { return read_file(p); }, default_config);
    if (!options) {
        std::cerr << "procviewfs: " << options.error().describe() << "\n";
        return 2;
    }
    if (options->show_help) {
        std::cout << daemon_usage();
        return 0;
    }
    if (options->show_version) {
        std::cout << "procviewfs " << PROCVIEW_VERSION << "\n";
        return 0;
    }
    if (options->unmount)
        return run_unmount(options->config.mountpoint, *make_logger("procviewfs", "", options->debug ? "debug" : "warn"));
    return run(*options);
}
