#include "fusefs/stat_records.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/cgroup_files.hpp"
#include "core/text.hpp"
#include "fusefs/keeper_socket.hpp"
#include "platform/fs.hpp"
#include "platform/unique_dir.hpp"

namespace procview {
namespace {

constexpr const char* kRunDir = "/run/procview";
constexpr std::string_view kTempPrefix = "tmp.";
constexpr std::string_view kFloorPrefix = "floor.";  // counter_floor.hpp

// Writes `text` to dir/tmp.<name>, then renames it over dir/<name>: a reader
// (the next daemon) sees the old record or the new one, never half of one.
Result<void> write_atomically(int dir, const std::string& name, std::string_view text) {
    const std::string temp = std::string(kTempPrefix) + name;
    UniqueFd fd(::openat(dir, temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return make_error(errno, "create " + temp);
    while (!text.empty()) {
        ssize_t n = ::write(fd.get(), text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int err = n < 0 ? errno : EIO;
            ::unlinkat(dir, temp.c_str(), 0);
            return make_error(err, "write " + temp);
        }
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::renameat(dir, temp.c_str(), dir, name.c_str()) != 0) {
        int err = errno;
        ::unlinkat(dir, temp.c_str(), 0);
        return make_error(err, "rename " + temp + " to " + name);
    }
    return {};
}

}  // namespace

std::string stat_record_dir(const std::string& mountpoint) {
    return std::string(kRunDir) + "/" + mountpoint_hash(mountpoint) + ".stat";
}

StatRecordStore::StatRecordStore(std::string path, UniqueFd parent, UniqueFd dir, UniqueFd proc,
                                 std::size_t max_records, std::shared_ptr<spdlog::logger> log)
    : path_(std::move(path)), parent_(std::move(parent)), dir_(std::move(dir)), proc_(std::move(proc)),
      max_records_(max_records), log_(std::move(log)) {}

Result<std::unique_ptr<StatRecordStore>> StatRecordStore::open(const std::string& dir, std::size_t max_records,
                                                               std::shared_ptr<spdlog::logger> log) {
    auto parent = dir.substr(0, dir.rfind('/'));
    if (!parent.empty()) ::mkdir(parent.c_str(), 0755);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return make_error(errno, "create " + dir);
    auto fd = open_at(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!fd) return fd.error();
    struct stat st{};
    // Root's own directory only: a record read back decides what containers are shown.
    if (::fstat(fd->get(), &st) != 0 || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0)
        return make_error(EPERM, dir + " is not a private directory of this user");
    auto proc = open_directory(AT_FDCWD, "/proc");
    if (!proc) return proc.error();
    // Held for remove_all's rmdir, so the seccomp filter can pin it to this fd.
    auto parent_fd = open_directory(AT_FDCWD, parent.empty() ? "/" : parent);
    if (!parent_fd) return parent_fd.error();
    std::unique_ptr<StatRecordStore> store(new StatRecordStore(dir, std::move(*parent_fd), std::move(*fd),
                                                               std::move(*proc), max_records, std::move(log)));
    store->prune();
    return store;
}

std::vector<std::string> StatRecordStore::list_entries() const {
    std::vector<std::string> names;
    UniqueDir d = UniqueDir::open_at(dir_.get(), ".");
    while (auto* e = d.next()) {
        std::string_view name = e->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    return names;
}

bool StatRecordStore::init_alive(const StatRecordKey& key) const {
    const std::string pid = std::to_string(key.init_pid);
    auto link = read_link_at(proc_.get(), pid + "/ns/pid");
    if (!link || *link != "pid:[" + std::to_string(key.pidns) + "]") return false;
    auto stat = read_file_at(proc_.get(), pid + "/stat");
    if (!stat) return false;
    auto parsed = parse_proc_pid_stat(*stat);
    return parsed && parsed->start_ticks == key.init_start_ticks;
}

void StatRecordStore::remove_locked(const std::string& name) {
    ::unlinkat(dir_.get(), name.c_str(), 0);
    names_.erase(name);
}

std::optional<StatRecord> StatRecordStore::load(const StatRecordKey& key) {
    const std::string name = stat_record_name(key);
    std::lock_guard lock(mu_);
    // Read even when not listed: during a --takeover the old instance may
    // have written it after this one listed the directory.
    auto text = read_file_at(dir_.get(), name);
    if (!text && text.error().errnum == ENOENT) return std::nullopt;
    names_.insert(name);
    auto record = text ? parse_stat_record(*text) : Result<StatRecord>(text.error());
    if (record && record->key == key) return std::move(*record);
    // Garbage, or the container moved to another cgroup: a new baseline is taken.
    log_->info("{}/{}: {}; taking a new /proc/stat baseline", path_, name,
               record ? "recorded for cgroup " + record->key.cgroup : record.error().describe());
    remove_locked(name);
    return std::nullopt;
}

void StatRecordStore::save(const StatRecord& record) {
    const std::string name = stat_record_name(record.key);
    auto text = format_stat_record(record);
    std::lock_guard lock(mu_);
    if (!names_.contains(name) && names_.size() >= max_records_) {
        if (!warned_) log_->warn("{}: {} /proc/stat records kept, the most; new ones are not", path_, names_.size());
        warned_ = true;
        return;
    }
    auto written = text ? write_atomically(dir_.get(), name, *text) : Result<void>(text.error());
    if (!written) {
        log_->warn("{}/{}: {}", path_, name, written.error().describe());
        return;
    }
    names_.insert(name);
}

std::unique_ptr<CounterFloor> StatRecordStore::map_floor(const StatRecordKey& key, std::size_t cpus) {
    const std::string name = stat_record_name(key);
    std::lock_guard lock(mu_);
    if (!names_.contains(name)) return nullptr;  // no record kept (the store is full): none for its floor either
    auto floor = CounterFloor::map(dir_.get(), std::string(kFloorPrefix) + name, cpus);
    if (!floor) {
        log_->warn("{}/{}{}: {}", path_, kFloorPrefix, name, floor.error().describe());
        return nullptr;
    }
    return std::move(*floor);
}

void StatRecordStore::prune() {
    // The directory, not names_: a --takeover's other instance may have added
    // records, and a kill mid-write leaves a temporary file behind.
    std::lock_guard lock(mu_);
    for (const auto& entry : list_entries()) {
        std::string_view name = entry;
        if (name.starts_with(kTempPrefix)) name.remove_prefix(kTempPrefix.size());
        if (name.starts_with(kFloorPrefix)) name.remove_prefix(kFloorPrefix.size());
        auto key = parse_stat_record_name(name);
        if (!key) continue;  // not ours: left alone
        if (init_alive(*key)) {
            if (name.size() == entry.size()) names_.insert(entry);
            continue;
        }
        ::unlinkat(dir_.get(), entry.c_str(), 0);
        names_.erase(entry);
    }
}

void StatRecordStore::remove_all() {
    std::lock_guard lock(mu_);
    for (const auto& name : list_entries()) ::unlinkat(dir_.get(), name.c_str(), 0);
    names_.clear();
    ::unlinkat(parent_.get(), path_.substr(path_.rfind('/') + 1).c_str(), AT_REMOVEDIR);
}

}  // namespace procview
