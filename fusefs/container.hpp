// Who is reading: a reader's pid → the init of its pid namespace → that
// init's cgroups, cached per pid namespace.
//
// A cache entry holds a pidfd on the init, and with it the namespace itself:
// the kernel's pid object holds a reference on its pid namespace, so while
// the entry exists the namespace's inode number cannot be given to another
// one, and a cached inode number always names the same namespace. Nothing
// can live in a pid namespace once its init has exited (the kernel kills the
// rest and refuses new members), so a reader found inside the namespace
// proves its init alive: a lookup needs one readlink, no liveness check. The
// sweep polls the pidfds to forget containers whose init exited. No fork per
// open: the init is found by walking the reader's ancestors (falling back to
// a scan of /proc for readers that entered the namespace with setns).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/cgroup_files.hpp"
#include "core/cpu_split.hpp"
#include "fusefs/counter_floor.hpp"
#include "core/result.hpp"
#include "core/views.hpp"
#include "fusefs/cgroup_dir.hpp"
#include "fusefs/cgroup_layout.hpp"
#include "fusefs/handles.hpp"
#include "platform/unique_fd.hpp"

namespace procview {

struct ContainerCgroups {
    std::shared_ptr<CgroupDir> memory, cpu, cpuacct, cpuset, blkio, pids;
    std::shared_ptr<CgroupDir> unified;  // v2 dir (pressure files); nullptr on pure v1
};

struct LoadState {
    LoadAverage average;
    bool seeded = false;
    unsigned running = 0;  // tasks in R
    unsigned blocked = 0;  // tasks in D
    unsigned total = 0;    // all tasks (threads)
    pid_t last_pid = 0;
    int64_t sampled_ms = 0;
};

// The load average of one cgroup, shared by every Container showing it: the
// pid namespace's (proc/, sysinfo) and the per-container files' of its init
// (containers/<pid>-<start>). Two averages sampled at different moments
// would disagree (`uptime` against /proc/loadavg in one container).
struct SharedLoad {
    std::mutex mu;
    LoadState state;  // guarded by mu
    [[nodiscard]] LoadState snapshot() {
        std::lock_guard lock(mu);
        return state;
    }
};

class Container {
public:
    uint64_t pidns = 0;
    pid_t init_pid = 0;
    UniqueFd init_pidfd;
    uint64_t init_start_ticks = 0;  // /proc/<init>/stat field 22
    // The boottime offset of the init's time namespace when it has its own
    // (procview-runtime gives opted-in containers one); nullopt: the daemon's.
    // Read once: offsets are frozen once a process is in the namespace.
    std::optional<ClockOffset> boottime_offset;
    std::string cgroup_path;        // for logs: the unified path, else the memory one
    std::string membership_text;    // /proc/<init>/cgroup as last read

    // Guards the cgroup fds' caches and everything below.
    std::mutex mu;
    ContainerCgroups cgroups;
    MonotonicCpuTimes cpu_floor;
    // The same floor in the stat record directory, once the container has a
    // record (counter_floor.hpp): what a restarted daemon starts from.
    std::unique_ptr<CounterFloor> kept_floor;
    std::size_t kept_floor_cpus = 0;  // the CPU count it was last mapped (or tried) for
    CpuSplitter cpu_split;       // v1: user/system per host CPU (core/cpu_split.hpp)
    int64_t split_saved_ms = 0;  // when its anchors last changed (and were saved to the stat records)
    static constexpr int64_t kSplitSaveIntervalMs = 1000;  // at most one new share a second
    CapacityIntegral capacity;
    // The cgroup's usage from before the container (views.hpp), once taken or
    // read back from the stat records; reset when the init moves cgroup.
    std::optional<UsageBaseline> usage_baseline;
    // The pointer is guarded by `mu` (a move to another cgroup replaces it),
    // what it points to by its own lock, taken after `mu` when both are.
    // ContainerRegistry shares one per cgroup.
    std::shared_ptr<SharedLoad> load = std::make_shared<SharedLoad>();
    std::set<std::string, std::less<>> warned;  // fallbacks already logged once

    std::atomic<int64_t> last_read_ms{0};
    std::atomic<int64_t> verified_ms{0};  // when membership was last checked (lookups read it unlocked)
    std::atomic<bool> gone{false};  // a read found the cgroup removed: resolve again
    // Open files and directories of its readers (filesystem.hpp); shared by
    // the tracked pid namespaces of one cgroup (nested ones: one container).
    std::shared_ptr<HandleBudget::Count> handles = std::make_shared<HandleBudget::Count>();

    [[nodiscard]] bool init_alive() const;
    [[nodiscard]] std::string describe() const;
    // Logs `what` once for this container (no error storms).
    void warn_once(spdlog::logger& log, const std::string& key, const std::string& what);
};

class ContainerRegistry {
public:
    // fixed_cgroup: tests only — every reader, host ones included, is served
    // as if its init's cgroup were this path (for fixture trees).
    // Containers (pid namespaces) tracked at once, and of them with the same
    // cgroup (nested namespaces of one container): each costs a pidfd and
    // ~12 cgroup fds. A namespace past either cap is served the host's view
    // (like a reader that cannot be placed), logged, and not looked for again
    // for kRefusedRetryMs.
    static constexpr std::size_t kDefaultMaxContainers = 4096;
    static constexpr std::size_t kMaxNamespacesPerCgroup = 64;
    static constexpr int64_t kRefusedRetryMs = 10'000;

    ContainerRegistry(const CgroupLayout& layout, std::shared_ptr<spdlog::logger> log,
                      std::optional<std::string> fixed_cgroup, std::size_t max_containers = kDefaultMaxContainers);
    static Result<std::unique_ptr<ContainerRegistry>> create(const CgroupLayout& layout,
                                                             std::shared_ptr<spdlog::logger> log,
                                                             std::optional<std::string> fixed_cgroup,
                                                             std::size_t max_containers = kDefaultMaxContainers);

    // nullptr: the reader is in the daemon's own pid namespace (host view).
    Result<std::shared_ptr<Container>> resolve(pid_t reader);
    // The cheap part of resolve(): one readlink and a look in the cache.
    // nullopt when the answer needs the slow part (a container seen for the
    // first time, or one due for its membership re-check), which the request
    // loop hands to another thread so no reader waits behind it.
    // `pidns` (if given) is set to the reader's pid namespace when known.
    std::optional<Result<std::shared_ptr<Container>>> resolve_cached(pid_t reader, uint64_t* pidns = nullptr);

    // A container whose view is that of process `pid` itself: its own cgroup
    // (not its pid namespace init's), its start time and time namespace. Not
    // tracked here: per-container files (cached_views.hpp) keep their own.
    Result<std::shared_ptr<Container>> build_for_process(pid_t pid) const;

    // Containers read within `window_ms` (for the load sampler).
    std::vector<std::shared_ptr<Container>> recently_read(int64_t now_ms, int64_t window_ms);
    // Re-reads the cgroup membership of those of `containers` (the recently
    // read ones) last checked long enough ago (the load sampler's thread).
    void recheck_memberships(const std::vector<std::shared_ptr<Container>>& containers, int64_t now_ms);
    // Forgets containers whose init exited or that went unread for idle_ms.
    void sweep(int64_t now_ms, int64_t idle_ms);
    [[nodiscard]] std::size_t size();

private:
    // The cheap part of a lookup. `answer` is set when it is final; otherwise
    // `pidns` is the reader's pid namespace, for the slow part.
    struct Lookup {
        std::optional<Result<std::shared_ptr<Container>>> answer;
        uint64_t pidns = 0;
    };
    Lookup look_up(pid_t reader);
    Result<uint64_t> pidns_of(pid_t pid) const;
    Result<uint64_t> ns_inode(pid_t pid, const std::string& name) const;
    // The boottime offset of `init`'s time namespace, nullopt when it shares the daemon's.
    std::optional<ClockOffset> time_namespace_offset(pid_t init) const;
    Result<pid_t> find_namespace_init(pid_t reader, uint64_t pidns) const;
    Result<std::shared_ptr<Container>> build(pid_t init, uint64_t pidns, const std::string* fixed) const;
    Result<void> open_cgroups(Container& c, const CgroupMembership& membership) const;
    // Re-reads the init's cgroup membership; reopens the cgroups (keeping the
    // container's accounting state) if it moved. False if the init is gone.
    bool reverify(Container& c) const;
    // Whether `c` may be tracked (the caps above), with mu_ held; drops
    // containers whose init exited to make room. An admitted `c` shares the
    // handle count of a tracked namespace of its cgroup.
    Result<void> admit(Container& c);
    // The load average of cgroup `path` (Container::cgroup_path), shared by
    // every Container built for it while any holds it.
    std::shared_ptr<SharedLoad> load_of(const std::string& path) const;

    const CgroupLayout& layout_;
    std::shared_ptr<spdlog::logger> log_;
    std::optional<std::string> fixed_cgroup_;
    UniqueFd proc_;  // the real /proc, for pid lookups
    uint64_t own_pidns_ = 0;
    uint64_t own_timens_ = 0;  // 0: the kernel has no time namespaces

    std::mutex mu_;  // guards by_ns_ and fixed_
    std::unordered_map<uint64_t, std::shared_ptr<Container>> by_ns_;
    std::shared_ptr<Container> fixed_;
    std::size_t max_containers_;
    std::unordered_map<uint64_t, int64_t> refused_;  // pid namespace → when it may be looked for again
    // Bounded by the live Containers: an expired entry is dropped on the next lookup of its path
    // and all of them whenever the map doubles past the last count of live ones.
    mutable std::mutex loads_mu_;
    mutable std::unordered_map<std::string, std::weak_ptr<SharedLoad>> loads_;
    mutable std::size_t loads_live_ = 0;
};

int64_t monotonic_ms();

}  // namespace procview
