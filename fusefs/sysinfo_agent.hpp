// The sysinfo(2) agent: answers the sysinfo calls of containers that
// procview-runtime gave a seccomp notify rule, with the numbers their /proc
// files show (ViewEngine::sysinfo_inputs), so busybox `free`/`uptime` and
// glibc's sysconf(_SC_PHYS_PAGES) agree with /proc/meminfo and /proc/loadavg.
//
//   runc/crun ──connect(listener_path)──▶ {ociVersion, fds, pid, metadata, state} + SCM_RIGHTS(notify fd)
//   container: sysinfo(&si) ──kernel──▶ notify fd ──▶ agent: RECV, resolve pid → container,
//   compute, ID_VALID, process_vm_writev(args[0]), ID_VALID, SEND {val 0}
//
// Contract with the caller of sysinfo:
// - the struct is written into its memory and the call returns 0;
// - an args[0] the kernel could not write to gets EFAULT, as the kernel would;
// - anything else that goes wrong (unknown arch, a caller procview cannot
//   place, an unreadable host file, a process that cannot be written) answers
//   SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel runs the real sysinfo, i.e.
//   the host's numbers, never an error the kernel would not give.
//
// Who may hand in fds: peers of the listener (a path socket, its directory
// created 0700 and the socket 0600) must be uid 0 (SO_PEERCRED), send one
// JSON object of at most kMaxListenerMessage bytes (complete when it parses:
// runc does not close its end until it exits) with exactly one fd,
// and that fd must be a seccomp notify fd; anything else is dropped. At
// most `max_fds` notify fds are held.
//
// Fairness: one thread, an epoll set of every notify fd (level-triggered:
// the kernel moves a reported fd to the back of its ready list), one
// notification per ready fd per round: a container flooding sysinfo gets one
// answer per round like every other container.
//
// Lifetime: the fds must outlive this process (a closed listener makes every
// later sysinfo in that container fail with ENOSYS): `on_new_fd` is called
// with each accepted fd, for the keeper to hold a copy; `adopt` takes the
// fds a previous instance left with the keeper.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/result.hpp"
#include "core/seccomp_listener.hpp"
#include "fusefs/container.hpp"
#include "fusefs/sysinfo_handoff.hpp"
#include "fusefs/view_engine.hpp"
#include "platform/unique_fd.hpp"

namespace procview {

class SysinfoAgent {
public:
    static constexpr std::size_t kDefaultMaxFds = 4096;
    static constexpr int64_t kMessageDeadlineMs = 2000;  // a runtime sends its message at once

    struct Counters {
        std::atomic<uint64_t> answered{0}, efault{0}, continued{0}, containers{0}, refused_peers{0};
    };

    SysinfoAgent(ContainerRegistry& registry, ViewEngine& engine, std::shared_ptr<spdlog::logger> log,
                 std::size_t max_fds = kDefaultMaxFds);
    ~SysinfoAgent();
    SysinfoAgent(const SysinfoAgent&) = delete;
    SysinfoAgent& operator=(const SysinfoAgent&) = delete;

    // Creates the listener socket (before the daemon's seccomp filter): the
    // directory with 0700 if missing (an existing one writable by others is
    // refused), a stale socket replaced, the socket 0600. A socket another
    // instance still serves is left to it (EADDRINUSE) unless `replace_live`
    // (--takeover: the new instance takes over from the old).
    Result<void> listen(const std::string& path, bool replace_live = false);
    // Serves a notify fd received some other way (from the keeper).
    Result<void> adopt(UniqueFd notify_fd, const std::string& name);
    // Called on the agent's thread with each notify fd accepted from a runtime.
    void set_on_new_fd(std::function<void(int fd, const std::string& name)> callback) { on_new_fd_ = std::move(callback); }
    // Where each notification is recorded while it is being answered
    // (sysinfo_handoff.hpp); one a previous daemon left there is answered
    // first thing when the agent starts. nullptr: no record.
    void set_inflight(InflightSlot* slot) { inflight_ = slot; }
    // Fault injection for tests (PROCVIEWFS_TEST_FAULT=kill-after-sysinfo-receive):
    // the process SIGKILLs itself right after receiving a notification.
    void set_kill_after_receive(bool on) { kill_after_receive_ = on; }

    void start();
    void stop();  // joins the thread; the fds stay open until destruction

    [[nodiscard]] int listener_fd() const { return listener_.get(); }
    [[nodiscard]] const Counters& counters() const { return counters_; }

private:
    struct Pending {  // an accepted runtime connection, until its message is in
        UniqueFd sock;
        std::string data;
        UniqueFd fd;
        int fds_seen = 0;
        int64_t deadline_ms = 0;
    };
    struct Notifier {
        UniqueFd fd;
        std::string name;
    };

    void run();
    void accept_runtime();
    void read_pending(uint64_t key);
    void finish_pending(Pending& p);
    Result<void> watch(int fd, uint64_t key);
    void drop(uint64_t key);
    void expire_pending(int64_t now_ms);
    // One notification from this fd: RECV, answer, SEND.
    void serve_one(uint64_t key, Notifier& n);
    // Computes, writes and sends the reply to a received notification.
    void answer(Notifier& n, const seccomp_notif& req);
    // Answers the notification a dead daemon received and left unanswered.
    void recover_inflight();

    ContainerRegistry& registry_;
    ViewEngine& engine_;
    std::shared_ptr<spdlog::logger> log_;
    std::size_t max_fds_;
    UniqueFd listener_, epoll_, wake_;
    std::string path_;
    std::map<uint64_t, Pending> pending_;
    std::map<uint64_t, Notifier> notifiers_;
    uint64_t next_key_ = 16;  // below: the listener and the wake-up fd
    std::function<void(int, const std::string&)> on_new_fd_;
    InflightSlot* inflight_ = nullptr;
    bool kill_after_receive_ = false;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
    Counters counters_;
};

// Whether fd is a seccomp user-notification fd (its /proc/self/fd link reads
// "anon_inode:seccomp notify").
bool is_seccomp_notify_fd(int fd);

}  // namespace procview
