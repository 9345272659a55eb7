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
// run() is those steps in order (find_cgroups, open_sources, connect,
// serve: open_session, the INIT, announce_serving, start_helpers, go_live,
// the loops, stop_serving); the process plumbing is in daemon_process.hpp.

#include <fuse_lowlevel.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "fusefs/cgroup_layout.hpp"
#include "fusefs/container.hpp"
#include "fusefs/daemon_process.hpp"
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

// Everything the running daemon shares between its threads.
struct Daemon {
    std::string mountpoint;
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

// The first steps, before any thread starts: signals as the daemon needs
// them. Returns the stop signals, blocked from here on in every thread and
// taken by StopSignalWaiter (request_loops.hpp).
sigset_t prepare_process() {
    raise_fd_limit();
    ::signal(SIGCHLD, SIG_IGN);  // the keeper we spawn is reaped by the kernel, never a zombie
    ::signal(SIGPIPE, SIG_IGN);  // a closed socket is an error return, not our death
    return block_stop_signals();
}

Result<CgroupLayout> find_cgroups(const Config& cfg) {
    if (!cfg.cgroup_root.empty()) return CgroupLayout::from_directory(cfg.cgroup_root);
    auto text = read_file("/proc/self/mountinfo");
    if (!text) return text.error();
    return CgroupLayout::discover(*text);
}

// What the views read: the host's files and the containers (which keep a
// reference to `layout`).
struct Sources {
    std::unique_ptr<HostFiles> host;
    std::unique_ptr<ContainerRegistry> registry;
};

Result<Sources> open_sources(const DaemonOptions& options, const CgroupLayout& layout,
                             const std::shared_ptr<spdlog::logger>& log) {
    const Config& cfg = options.config;
    auto host = HostFiles::open(cfg.proc_root, cfg.sys_cpu_root, log);
    if (!host) return host.error();
    auto registry = ContainerRegistry::create(layout, log, options.fixed_cgroup, cfg.max_containers);
    if (!registry) return registry.error();
    return Sources{std::move(*host), std::move(*registry)};
}

// The sysinfo agent, listening; null when sysinfo is off or cannot be
// answered. Before the seccomp filter, which allows no new stream socket.
// A --containers-only instance shares the main one's config file, listener
// path included: the main instance answers sysinfo, never this one.
std::unique_ptr<SysinfoAgent> open_sysinfo_agent(const DaemonOptions& options, ContainerRegistry& registry,
                                                 ViewEngine& engine, const std::shared_ptr<spdlog::logger>& log) {
    const Config& cfg = options.config;
    if (!cfg.sysinfo || options.containers_only) return nullptr;
    auto agent = std::make_unique<SysinfoAgent>(registry, engine, log, cfg.max_containers);
    const char* fault = std::getenv("PROCVIEWFS_TEST_FAULT");  // tests only: sysinfo_test.cpp
    agent->set_kill_after_receive(fault && std::string_view(fault) == "kill-after-sysinfo-receive");
    if (auto r = agent->listen(cfg.sysinfo_listener_path, options.takeover); !r) {
        log->warn("not answering sysinfo: {}", r.error().describe());
        return nullptr;
    }
    return agent;
}

// A start-up failure the user must see: logged and on stderr. Returns run()'s 1.
int refuse(spdlog::logger& log, const std::string& why) {
    log.error("{}", why);
    std::cerr << "procviewfs: " << why << "\n";
    return 1;
}

// The connection to serve: the live one of a previous instance (through its
// keeper) or a fresh mount. `locked`: we hold the instance lock. Nothing
// (logged) when there is none to serve.
std::optional<FuseConnection> connect(const DaemonOptions& options, bool locked, spdlog::logger& log) {
    const std::string& mountpoint = options.config.mountpoint;
    auto attached = attach_to_keeper(mountpoint, log);
    if (attached) return std::move(*attached);
    if (options.takeover && !locked) {
        log.error("--takeover: {}", attached.error().describe());
        return std::nullopt;
    }
    // Not "no keeper" (EPERM: something else listens where our keeper
    // should, never believed): the mount next to it is not ours to replace.
    if (int e = attached.error().errnum; e != ENOENT && e != ECONNREFUSED && e != ECONNRESET && e != EPIPE) {
        refuse(log, attached.error().describe());
        return std::nullopt;
    }
    log.debug("no keeper: {}", attached.error().describe());
    auto fresh = mount_fresh(mountpoint, log, options.foreground);
    if (!fresh) {
        refuse(log, fresh.error().describe());
        return std::nullopt;
    }
    return std::move(*fresh);
}

// The libfuse session serving the connection's worker fd. Owned: destroyed
// (closing that fd) on every way out of run().
struct SessionDeleter {
    void operator()(fuse_session* s) const { fuse_session_destroy(s); }
};
using Session = std::unique_ptr<fuse_session, SessionDeleter>;

Result<Session> open_session(FuseConnection& connection, Filesystem& fs) {
    std::string argv0 = "procviewfs";
    char* fuse_argv[] = {argv0.data(), nullptr};
    fuse_args args = FUSE_ARGS_INIT(1, fuse_argv);
    Session session(fuse_session_new(&args, &Filesystem::operations(), sizeof(fuse_lowlevel_ops), &fs));
    fuse_opt_free_args(&args);  // option parsing replaced argv with an allocated copy
    if (!session) return make_error(EIO, "fuse_session_new failed");
    std::string device = "/dev/fd/" + std::to_string(connection.worker.get());
    if (fuse_session_mount(session.get(), device.c_str()) != 0) return make_error(EIO, "cannot serve " + device);
    connection.worker.release();  // the session owns it now
    return session;
}

// With FUSE_NOTIFY_RESEND the session has read the INIT from a dup of the
// master fd; before any other request, it is pointed at a clone the keeper
// lends instead (dup2 onto the session's fd number), as a taking-over
// daemon's is, so the keeper can end what a killed daemon held.
void serve_from_lent_clone(Daemon& d, fuse_session* session) {
    auto clone = borrow_clone_from_keeper(d.connection.keeper.get());
    if (!clone) {
        d.log->warn("{}; requests held by this daemon if it is killed wait for the next one", clone.error().describe());
        return;
    }
    if (::dup3(clone->get(), fuse_session_fd(session), O_CLOEXEC) < 0)
        d.log->warn("serve from the keeper's clone: {}", std::strerror(errno));
}

// A fresh connection's first request is the kernel's INIT: kept for whoever
// takes this connection over later, and answered only once the keeper has
// it (a daemon killed before the keeper stored it must not have made the
// connection live).
Result<void> answer_first_init(Daemon& d, fuse_session* session) {
    fuse_buf buf{};
    int n = fuse_session_receive_buf(session, &buf);
    if (n <= 0) return make_error(-n, "no INIT from the kernel");
    d.init_request.assign(static_cast<const char*>(buf.mem), static_cast<std::size_t>(n));
    auto stored = store_init_with_keeper(d.connection.keeper.get(), d.init_request);
    if (!stored) d.log->warn("{}; a later procviewfs cannot take this mount over", stored.error().describe());
    buf.size = static_cast<std::size_t>(n);
    fuse_session_process_buf(session, &buf);
    std::free(buf.mem);
    if (stored && d.connection.resend) serve_from_lent_clone(d, session);
    return {};
}

// A taken-over connection: replay its INIT into our session.
void replay_init(Daemon& d, fuse_session* session, bool takeover) {
    d.init_request = d.connection.init_request;
    fuse_buf buf{};
    buf.mem = d.connection.init_request.data();
    buf.size = d.connection.init_request.size();
    fuse_session_process_buf(session, &buf);
    // The requests a killed predecessor read and never answered are still
    // held (the keeper kept its fd): have them sent again, to us. Not on
    // --takeover: the running instance answers its own.
    if (d.connection.resend && !takeover) {
        if (auto r = request_resend(d.connection.master.get()); !r) d.log->warn("{}", r.error().describe());
        else d.log->debug("asked the kernel to resend the requests the previous instance held");
    }
}

// Tells systemd and the keeper that we serve, and waits for the instance lock
// when a previous instance held it (it is retiring).
void announce_serving(Daemon& d, Result<UniqueFd>& lock) {
    // systemd must learn the new main pid before the old one exits on RETIRE,
    // or it takes the exit for the service dying.
    if (!d.connection.fresh) notify_systemd("MAINPID=" + std::to_string(::getpid()));
    (void)tell_keeper(d.connection.keeper.get(), "SERVING");
    if (!lock) lock = acquire_instance_lock(d.mountpoint, true, 5000);
    if (!lock) d.log->warn("{}", lock.error().describe());
}

// Per-container /proc/stat state that a restart must continue (stat_records.hpp).
std::unique_ptr<StatRecordStore> open_stat_records(const Config& cfg, ViewEngine& engine,
                                                   const std::shared_ptr<spdlog::logger>& log) {
    auto store = StatRecordStore::open(stat_record_dir(cfg.mountpoint), cfg.max_containers, log);
    if (!store) {
        log->warn("/proc/stat counters will restart with the daemon: {}", store.error().describe());
        return nullptr;
    }
    engine.keep_stat_records(store->get());
    return std::move(*store);
}

// What the serving steps share: built by run() before the mount is touched.
struct Parts {
    const DaemonOptions& options;
    ContainerRegistry& registry;
    ViewEngine& engine;
    Filesystem& fs;
    CachedViews& containers;  // the per-container files (containers/)
    SysinfoAgent* agent;  // null: sysinfo is not answered
    sigset_t stop_signals;
    int ready_fd;
};

// Starts the threads that run beside the request loops. Only the loops'
// threads may take kStopLoopSignal: threads inherit the mask they are
// created with. Returns the keeper's watcher.
std::thread start_helpers(Daemon& d, const Parts& p, LoadSampler& sampler) {
    ControlSignalsBlocked blocked;
    sampler.start();
    p.containers.start();
    // With one request loop, first lookups of a container go to the setup
    // worker; with several, the other threads serve meanwhile.
    if (p.options.config.threads == 0) p.fs.setup.start();
    std::thread watcher([&d] { watch_keeper(d); });
    if (p.agent) p.agent->start();
    return watcher;
}

// Ready: the waiting parent and systemd are told, then the seccomp filter
// goes on (everything it does not allow was opened by now).
void go_live(const Daemon& d, const Parts& p, const Pidfile& pidfile, const StatRecordStore* records) {
    const Config& cfg = p.options.config;
    d.log->info("serving {} ({})", cfg.mountpoint, d.connection.fresh ? "new mount" : "taken over from a previous instance");
    report_ready(p.ready_fd);
    notify_systemd("READY=1\nMAINPID=" + std::to_string(::getpid()));
    if (!cfg.seccomp) return;
    DaemonFilterOptions filter{.log_only = false,
                               .pidfile_dir_fd = pidfile.directory_fd(),
                               .sysinfo_listener_fd = p.agent ? p.agent->listener_fd() : -1,
                               .records_dir_fd = records ? records->directory_fd() : -1,
                               .records_parent_fd = records ? records->parent_fd() : -1};
    if (auto r = install_daemon_seccomp_filter(filter); !r)
        d.log->warn("serving without a seccomp filter: {}", r.error().describe());
}

// After the loops returned: the helpers stop, and the mount is handed over
// to the keeper (a stop signal), left to the newer instance (RETIRE), or
// unmounted when nobody else holds the connection. Wakes the watcher.
void stop_serving(Daemon& d, const Parts& p, LoadSampler& sampler, StatRecordStore* records) {
    d.loop_done = true;
    d.stopping = true;
    p.fs.setup.stop();  // requests it holds are answered before the session goes
    if (p.agent) p.agent->stop();
    sampler.stop();
    p.containers.stop();  // before the session goes: its thread writes invalidations to it
    if (!d.retiring && !d.keeper_lost) {
        // Hand over: requests queued from now on wait in the kernel for the
        // next procviewfs, which attaches to the keeper (`systemctl restart`).
        d.log->info("stopped; the keeper holds {} for the next procviewfs (remove it with --unmount)", d.mountpoint);
    } else if (!d.retiring) {
        // Nobody else holds the connection: it ends with us, so do not leave an ENOTCONN mount.
        d.log->info("unmounting {}", d.mountpoint);
        ::umount2(d.mountpoint.c_str(), MNT_DETACH);
        if (records) records->remove_all();
    }
    // Wake the watcher (its read returns once the keeper is gone or we close our end).
    std::lock_guard guard(d.keeper_mu);
    ::shutdown(d.connection.keeper.get(), SHUT_RDWR);
}

// Serves the connection in `d` until a stop signal, RETIRE or the unmount.
int serve(Daemon& d, const Parts& p, Result<UniqueFd>& lock) {
    auto session = open_session(d.connection, p.fs);
    if (!session) {
        d.log->error("{}", session.error().message);
        return 1;
    }
    p.containers.set_session(session->get());
    RequestLoops loops(session->get());
    d.loops = &loops;
    d.containers = &p.containers;
    RequestLoops::install_signal_handler();
    // From here a stop signal ends the loops between requests; one that came
    // earlier was kept pending (blocked since the start of run) and acts now.
    StopSignalWaiter stop_signals(p.stop_signals, [&d](int sig) {
        d.log->info("{}: stopping between requests", strsignal(sig));
        if (d.containers) d.containers->stop();
        d.loops->stop();
    });
    if (!d.connection.fresh) {
        replay_init(d, session->get(), p.options.takeover);
    } else if (auto r = answer_first_init(d, session->get()); !r) {
        d.log->error("{}", r.error().describe());
        return 1;
    }
    announce_serving(d, lock);
    // After the previous instance is gone (the lock), before the watcher reads the keeper's socket.
    // (Destroyed before the agent, whose thread uses it: stop_serving stops the agent first.)
    std::optional<InflightRecord> inflight = p.agent ? hand_over_sysinfo(d, *p.agent) : std::nullopt;
    const Pidfile pidfile = Pidfile::write(p.options.pidfile);
    auto records = open_stat_records(p.options.config, p.engine, d.log);
    LoadSampler sampler(p.registry, p.engine, p.options.config.loadavg);
    std::thread watcher = start_helpers(d, p, sampler);
    go_live(d, p, pidfile, records.get());
    // --threads N: N loops reading the same fd (0 and 1 both mean one).
    int rc = loops.run(std::max(1u, p.options.config.threads));
    stop_serving(d, p, sampler, records.get());
    watcher.join();
    session->reset();  // after the watcher, before the pidfile goes, as always
    pidfile.remove();
    return rc < 0 && !d.retiring ? 1 : 0;
}

int run(const DaemonOptions& options) {
    auto log = make_daemon_logger(options);
    const Config& cfg = options.config;
    const sigset_t stop_signals = prepare_process();
    auto layout = find_cgroups(cfg);
    if (!layout) {
        log->error("cannot find the cgroup hierarchies: {}", layout.error().describe());
        return 1;
    }
    log->info("cgroups: {}", layout->describe());
    auto sources = open_sources(options, *layout, log);
    if (!sources) {
        log->error("{}", sources.error().describe());
        return 1;
    }
    ViewEngine engine(*sources->host, layout->changes(), ViewOptions{cfg.swap, cfg.loadavg, cfg.cpu_quota}, log);
    Filesystem fs(*sources->registry, engine, *sources->host, log, cfg.max_open_per_container, cfg.max_open);
    CachedViews containers(*sources->registry, engine, CachedViewsOptions{cfg.cache_window_ms, cfg.max_containers}, log);
    fs.containers = &containers;
    fs.containers_only = options.containers_only;
    int ready_fd = options.foreground ? -1 : daemonize();
    auto agent = open_sysinfo_agent(options, *sources->registry, engine, log);

    auto lock = acquire_instance_lock(cfg.mountpoint, false, 0);
    if (!lock && !options.takeover) return refuse(*log, lock.error().describe() + " (use --takeover to replace it)");
    Daemon d;
    d.mountpoint = cfg.mountpoint;
    d.log = log;
    d.foreground = options.foreground;
    auto connection = connect(options, lock.ok(), *log);
    if (!connection) {
        // Refused before serving (the mountpoint is someone else's): holding
        // the lock means no procviewfs serves there, so its file goes too,
        // as --unmount removes it, rather than stay behind for every refusal.
        if (lock) remove_instance_lock(cfg.mountpoint, std::move(*lock));
        return 1;
    }
    d.connection = std::move(*connection);
    return serve(d, Parts{options, *sources->registry, engine, fs, containers, agent.get(), stop_signals, ready_fd}, lock);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 5 && std::strcmp(argv[1], "--keeper") == 0)
        return run_keeper(std::atoi(argv[3]), std::atoi(argv[4]), argv[2]);

    std::vector<std::string> args(argv + 1, argv + argc);
    auto options = parse_daemon_options(args, [](const std::string& p) { return read_file(p); });
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
