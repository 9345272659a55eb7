#include "fusefs/container.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "core/text.hpp"
#include "platform/fs.hpp"
#include "platform/unique_dir.hpp"

namespace procview {
namespace {

// How often a cached container's cgroup membership is re-read (by the load
// sampler's thread, off the request path): an init that moves to another
// cgroup (rare: systemd inside a container) is seen this late.
constexpr int64_t kMembershipRecheckMs = 10'000;
// A lookup does the re-check itself only when the sampler has not for this
// long (a container read again after a long pause).
constexpr int64_t kMembershipStaleMs = 30'000;

Result<UniqueFd> pidfd_open(pid_t pid) {
    long fd = ::syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) return make_error(errno, "pidfd_open " + std::to_string(pid));
    return UniqueFd(static_cast<int>(fd));
}

// "pid:[4026531836]" → 4026531836
std::optional<uint64_t> parse_ns_link(std::string_view link) {
    auto open = link.find('[');
    auto close = link.rfind(']');
    if (open == std::string_view::npos || close == std::string_view::npos || close <= open) return std::nullopt;
    return parse_u64(link.substr(open + 1, close - open - 1));
}

}  // namespace

int64_t monotonic_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

bool Container::init_alive() const {
    if (!init_pidfd.valid()) return true;  // fixed (test) container
    pollfd p{init_pidfd.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;  // a pidfd polls readable once the process exited
}

std::string Container::describe() const {
    return "container (pidns " + std::to_string(pidns) + ", init " + std::to_string(init_pid) + ", cgroup " +
           cgroup_path + ")";
}

void Container::warn_once(spdlog::logger& log, const std::string& key, const std::string& what) {
    if (warned.insert(key).second) log.warn("{}: {}; showing the host's values for it", describe(), what);
}

ContainerRegistry::ContainerRegistry(const CgroupLayout& layout, std::shared_ptr<spdlog::logger> log,
                                     std::optional<std::string> fixed_cgroup, std::size_t max_containers)
    : layout_(layout), log_(std::move(log)), fixed_cgroup_(std::move(fixed_cgroup)), max_containers_(max_containers) {}

Result<std::unique_ptr<ContainerRegistry>> ContainerRegistry::create(const CgroupLayout& layout,
                                                                     std::shared_ptr<spdlog::logger> log,
                                                                     std::optional<std::string> fixed_cgroup,
                                                                     std::size_t max_containers) {
    auto reg = std::make_unique<ContainerRegistry>(layout, std::move(log), std::move(fixed_cgroup), max_containers);
    auto proc = open_directory(AT_FDCWD, "/proc");
    if (!proc) return proc.error();
    reg->proc_ = std::move(*proc);
    auto own = reg->pidns_of(::getpid());
    if (!own) return own.error().context("own pid namespace");
    reg->own_pidns_ = *own;
    // A kernel without CONFIG_TIME_NS has no ns/time link: no container can have a time namespace.
    if (auto timens = reg->ns_inode(::getpid(), "time")) reg->own_timens_ = *timens;
    return reg;
}

Result<uint64_t> ContainerRegistry::ns_inode(pid_t pid, const std::string& name) const {
    auto link = read_link_at(proc_.get(), std::to_string(pid) + "/ns/" + name);
    if (!link) return link.error();
    auto ino = parse_ns_link(*link);
    if (!ino) return invalid("unexpected " + name + " namespace link `" + *link + "`");
    return *ino;
}

Result<uint64_t> ContainerRegistry::pidns_of(pid_t pid) const { return ns_inode(pid, "pid"); }

std::optional<ClockOffset> ContainerRegistry::time_namespace_offset(pid_t init) const {
    if (own_timens_ == 0) return std::nullopt;
    auto timens = ns_inode(init, "time");
    if (!timens || *timens == own_timens_) return std::nullopt;
    // timens_offsets describes the namespace for the init's children; it is
    // the init's own unless the init unshared another one (then unknown).
    auto for_children = ns_inode(init, "time_for_children");
    if (!for_children || *for_children != *timens) {
        log_->debug("init {}: its children get another time namespace; uptime from its start time", init);
        return std::nullopt;
    }
    auto text = read_file_at(proc_.get(), std::to_string(init) + "/timens_offsets");
    auto offsets = text ? parse_timens_offsets(*text) : Result<TimensOffsets>(text.error());
    if (!offsets) {
        log_->warn("init {}: time namespace offsets unreadable ({}); uptime from its start time", init,
                   offsets.error().describe());
        return std::nullopt;
    }
    return offsets->boottime;
}

Result<pid_t> ContainerRegistry::find_namespace_init(pid_t reader, uint64_t pidns) const {
    auto is_ns_init = [&](pid_t pid) {
        auto status = read_file_at(proc_.get(), std::to_string(pid) + "/status");
        if (!status) return false;
        auto nspid = parse_status_nspid(*status);
        return nspid && !nspid->empty() && nspid->back() == 1;
    };
    // Usual case: the init is the reader's oldest ancestor inside the namespace.
    pid_t current = reader;
    for (int hops = 0; hops < 128; ++hops) {
        auto stat = read_file_at(proc_.get(), std::to_string(current) + "/stat");
        if (!stat) return stat.error().context("walk to the namespace's init");
        auto parsed = parse_proc_pid_stat(*stat);
        if (!parsed) return parsed.error();
        if (parsed->ppid <= 0) break;
        auto parent_ns = pidns_of(parsed->ppid);
        if (!parent_ns || *parent_ns != pidns) break;
        current = parsed->ppid;
    }
    if (is_ns_init(current)) return current;
    // The reader entered the namespace with setns (runc exec, nsenter): scan.
    UniqueDir dir = UniqueDir::open_at(proc_.get(), ".");
    if (!dir) return make_error(errno, "scan /proc");
    pid_t found = 0;
    while (auto* entry = dir.next()) {
        auto pid = parse_u64(entry->d_name);
        if (!pid) continue;
        auto ns = pidns_of(static_cast<pid_t>(*pid));
        if (ns && *ns == pidns && is_ns_init(static_cast<pid_t>(*pid))) {
            found = static_cast<pid_t>(*pid);
            break;
        }
    }
    if (found == 0) return make_error(ESRCH, "no init found for pid namespace " + std::to_string(pidns));
    return found;
}

Result<void> ContainerRegistry::open_cgroups(Container& c, const CgroupMembership& membership) const {
    ContainerCgroups groups;
    auto open_for = [&](std::string_view controller) -> std::shared_ptr<CgroupDir> {
        const Hierarchy* h = layout_.for_controller(controller);
        if (!h) return nullptr;
        std::string path;
        if (h->version == CgroupVersion::v2) {
            if (!membership.unified) return nullptr;
            path = strip_init_scope(*membership.unified);
        } else {
            auto it = membership.controllers.find(std::string(controller));
            if (it == membership.controllers.end()) return nullptr;
            path = strip_init_scope(it->second);
        }
        auto dir = CgroupDir::open(*h, path);
        if (!dir) {
            log_->debug("{}: {} cgroup: {}", c.describe(), controller, dir.error().describe());
            return nullptr;
        }
        return *dir;
    };
    groups.memory = open_for("memory");
    groups.cpu = open_for("cpu");
    groups.cpuacct = open_for("cpuacct");
    groups.cpuset = open_for("cpuset");
    groups.blkio = open_for("blkio");
    groups.pids = open_for("pids");
    if (layout_.pure_v2()) {
        groups.unified = groups.memory ? groups.memory : open_for("memory");
    } else if (const Hierarchy* u = layout_.unified(); u && membership.unified) {
        if (auto dir = CgroupDir::open(*u, strip_init_scope(*membership.unified))) groups.unified = *dir;
    }
    if (!groups.memory && !groups.cpu && !groups.cpuset && !groups.unified)
        return make_error(ENOENT, "none of the container's cgroups could be opened");
    c.cgroups = std::move(groups);
    const auto* shown = layout_.pure_v2() ? c.cgroups.unified.get() : c.cgroups.memory ? c.cgroups.memory.get() : c.cgroups.cpu.get();
    c.cgroup_path = shown ? shown->path() : "?";
    return {};
}

Result<std::shared_ptr<Container>> ContainerRegistry::build(pid_t init, uint64_t pidns, const std::string* fixed) const {
    auto c = std::make_shared<Container>();
    c->pidns = pidns;
    c->init_pid = init;
    CgroupMembership membership;
    if (fixed) {
        membership.unified = *fixed;
        for (auto ctl : CgroupLayout::kControllers) membership.controllers[std::string(ctl)] = *fixed;
    } else {
        auto pidfd = pidfd_open(init);
        if (!pidfd) return pidfd.error();
        c->init_pidfd = std::move(*pidfd);
        // Re-check after taking the pidfd: the pid may have been recycled in between.
        auto ns = pidns_of(init);
        if (!ns || *ns != pidns) return make_error(ESRCH, "init " + std::to_string(init) + " exited during lookup");
        auto stat = read_file_at(proc_.get(), std::to_string(init) + "/stat");
        if (!stat) return stat.error();
        auto parsed = parse_proc_pid_stat(*stat);
        if (!parsed) return parsed.error().context("/proc/" + std::to_string(init) + "/stat");
        c->init_start_ticks = parsed->start_ticks;
        c->boottime_offset = time_namespace_offset(init);
        auto cg = read_file_at(proc_.get(), std::to_string(init) + "/cgroup");
        if (!cg) return cg.error();
        auto m = parse_proc_pid_cgroup(*cg);
        if (!m) return m.error().context("/proc/" + std::to_string(init) + "/cgroup");
        membership = std::move(*m);
        c->membership_text = std::move(*cg);
    }
    if (auto r = open_cgroups(*c, membership); !r) return r.error().context(c->describe());
    c->load = load_of(c->cgroup_path);
    c->verified_ms = monotonic_ms();
    return c;
}

std::shared_ptr<SharedLoad> ContainerRegistry::load_of(const std::string& path) const {
    std::lock_guard lock(loads_mu_);
    if (loads_.size() >= 2 * loads_live_ + 64) {
        std::erase_if(loads_, [](const auto& entry) { return entry.second.expired(); });
        loads_live_ = loads_.size();
    }
    auto& slot = loads_[path];
    auto load = slot.lock();
    if (!load) {
        load = std::make_shared<SharedLoad>();
        slot = load;
    }
    return load;
}

Result<std::shared_ptr<Container>> ContainerRegistry::build_for_process(pid_t pid) const {
    if (fixed_cgroup_) return build(pid, 0, &*fixed_cgroup_);
    auto ns = pidns_of(pid);
    if (!ns) return ns.error().context("process " + std::to_string(pid));
    return build(pid, *ns, nullptr);
}

bool ContainerRegistry::reverify(Container& c) const {
    auto cg = read_file_at(proc_.get(), std::to_string(c.init_pid) + "/cgroup");
    if (!cg || !c.init_alive()) return false;
    std::lock_guard lock(c.mu);
    c.verified_ms = monotonic_ms();
    if (*cg == c.membership_text) return true;
    auto m = parse_proc_pid_cgroup(*cg);
    if (!m || !open_cgroups(c, *m)) return false;
    c.membership_text = std::move(*cg);
    c.usage_baseline.reset();  // another cgroup's usage: its own baseline, split and load
    c.cpu_split = CpuSplitter{};
    c.load = load_of(c.cgroup_path);
    log_->info("{} moved to another cgroup", c.describe());
    return true;
}

ContainerRegistry::Lookup ContainerRegistry::look_up(pid_t reader) {
    using Answer = Result<std::shared_ptr<Container>>;
    if (fixed_cgroup_) {
        std::lock_guard lock(mu_);
        if (!fixed_ || fixed_->gone) return {};
        return {Answer(fixed_)};
    }
    if (reader <= 0) return {Answer(std::shared_ptr<Container>())};
    auto ns = pidns_of(reader);
    if (!ns) return {Answer(ns.error().context("reader " + std::to_string(reader)))};
    if (*ns == own_pidns_) return {Answer(std::shared_ptr<Container>())};
    std::lock_guard lock(mu_);
    auto it = by_ns_.find(*ns);
    if (it == by_ns_.end()) {
        auto refused = refused_.find(*ns);
        if (refused != refused_.end() && monotonic_ms() < refused->second)
            return {Answer(make_error(ENFILE, "pid namespace " + std::to_string(*ns) + " is past procviewfs's container caps"))};
        return {std::nullopt, *ns};
    }
    auto& c = it->second;
    // No liveness check here (see container.hpp): a reader inside the
    // namespace means its init is alive.
    if (c->gone || monotonic_ms() - c->verified_ms >= kMembershipStaleMs) return {std::nullopt, *ns};
    return {Answer(c)};
}

std::optional<Result<std::shared_ptr<Container>>> ContainerRegistry::resolve_cached(pid_t reader, uint64_t* pidns) {
    auto lookup = look_up(reader);
    if (pidns) *pidns = lookup.pidns;
    return std::move(lookup.answer);
}

Result<void> ContainerRegistry::admit(Container& c) {
    if (by_ns_.size() >= max_containers_)
        std::erase_if(by_ns_, [](const auto& entry) { return !entry.second->init_alive(); });
    if (by_ns_.size() >= max_containers_)
        return make_error(ENFILE, std::to_string(max_containers_) + " containers tracked, the most procviewfs tracks");
    std::size_t same_cgroup = 0;
    std::shared_ptr<HandleBudget::Count> shared_handles;
    for (const auto& [ns, other] : by_ns_) {
        if (other->cgroup_path != c.cgroup_path) continue;
        ++same_cgroup;
        shared_handles = other->handles;
    }
    if (same_cgroup >= kMaxNamespacesPerCgroup)
        return make_error(EMFILE, std::to_string(same_cgroup) + " pid namespaces of cgroup " + c.cgroup_path +
                                      " tracked, the most procviewfs tracks per cgroup");
    // One budget for the container, however many pid namespaces it makes.
    if (shared_handles) c.handles = std::move(shared_handles);
    return {};
}

Result<std::shared_ptr<Container>> ContainerRegistry::resolve(pid_t reader) {
    auto lookup = look_up(reader);
    if (lookup.answer) return std::move(*lookup.answer);
    if (fixed_cgroup_) {
        std::lock_guard lock(mu_);
        if (!fixed_ || fixed_->gone) {
            auto c = build(::getpid(), 0, &*fixed_cgroup_);
            if (!c) return c.error();
            fixed_ = *c;
        }
        return fixed_;
    }
    const uint64_t ns = lookup.pidns;

    // A known container due for its membership re-check: re-read it without
    // the registry's lock, which every reader's lookup takes.
    std::shared_ptr<Container> known;
    {
        std::lock_guard lock(mu_);
        if (auto it = by_ns_.find(ns); it != by_ns_.end()) known = it->second;
    }
    if (known) {
        if (!known->gone && known->init_alive() &&
            (monotonic_ms() - known->verified_ms < kMembershipStaleMs || reverify(*known)))
            return known;
        std::lock_guard lock(mu_);
        if (auto it = by_ns_.find(ns); it != by_ns_.end() && it->second == known)
            by_ns_.erase(it);  // rebuilt below: cheap next to being wrong
    }
    auto init = find_namespace_init(reader, ns);
    if (!init) return init.error();
    auto built = build(*init, ns, nullptr);
    if (!built) return built.error();
    std::lock_guard lock(mu_);
    if (by_ns_.find(ns) == by_ns_.end()) {
        if (auto admitted = admit(**built); !admitted) {
            // Remembered (bounded: cleared when it grows past the cap) so
            // its readers are answered without another /proc scan.
            if (refused_.size() >= max_containers_) refused_.clear();
            refused_[ns] = monotonic_ms() + kRefusedRetryMs;
            log_->warn("{}: {}; serving its readers the host's view", (*built)->describe(), admitted.error().describe());
            return admitted.error();
        }
    }
    auto [it, inserted] = by_ns_.emplace(ns, *built);
    if (inserted) log_->debug("new {}", (*built)->describe());
    if (inserted && (*built)->boottime_offset)
        log_->debug("{}: time namespace, boottime offset {} s", (*built)->describe(),
                    (*built)->boottime_offset->as_seconds());
    return it->second;
}

std::vector<std::shared_ptr<Container>> ContainerRegistry::recently_read(int64_t now_ms, int64_t window_ms) {
    std::vector<std::shared_ptr<Container>> out;
    std::lock_guard lock(mu_);
    for (auto& [ns, c] : by_ns_)
        if (now_ms - c->last_read_ms.load(std::memory_order_relaxed) <= window_ms) out.push_back(c);
    if (fixed_ && now_ms - fixed_->last_read_ms.load(std::memory_order_relaxed) <= window_ms) out.push_back(fixed_);
    return out;
}

void ContainerRegistry::recheck_memberships(const std::vector<std::shared_ptr<Container>>& containers, int64_t now_ms) {
    for (const auto& c : containers) {
        if (!c->init_pidfd.valid() || now_ms - c->verified_ms < kMembershipRecheckMs) continue;
        if (!reverify(*c)) c->gone = true;  // its next reader finds it again
    }
}

void ContainerRegistry::sweep(int64_t now_ms, int64_t idle_ms) {
    // Closing a container's fds and inotify watches takes a while when many
    // went away at once (1,000 containers: ~100 ms); readers must not wait
    // for it on the registry's lock, so the destruction happens after it.
    std::vector<std::shared_ptr<Container>> doomed;
    {
        std::lock_guard lock(mu_);
        for (auto it = by_ns_.begin(); it != by_ns_.end();) {
            auto& c = it->second;
            bool idle = now_ms - c->last_read_ms.load(std::memory_order_relaxed) > idle_ms;
            if (idle || !c->init_alive()) {
                doomed.push_back(std::move(c));
                it = by_ns_.erase(it);
            } else {
                ++it;
            }
        }
    }
    if (!doomed.empty()) log_->debug("forgot {} containers", doomed.size());
}

std::size_t ContainerRegistry::size() {
    std::lock_guard lock(mu_);
    return by_ns_.size();
}

}  // namespace procview
