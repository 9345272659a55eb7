// The I/O edge of the /proc/stat records (core/stat_record.hpp): one small
// file per container in a directory of the daemon's runtime directory, one
// directory per mountpoint (/run/procview/<mountpoint hash>.stat, next to the
// instance lock), so whichever instance serves that mountpoint next — the one
// started after a kill -9 or a crash, a --takeover successor — continues its
// predecessor's counters. tmpfs: gone at reboot, with every container.
//
// Files are written atomically (a temporary file, then rename), read back
// only when valid and for the same key, removed once their container's init
// has exited (prune()), and bounded in number: past max_records a new
// container's record is not kept (its counters are still right, they just
// restart from a new baseline after a daemon restart), logged once.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/result.hpp"
#include "core/stat_record.hpp"
#include "fusefs/counter_floor.hpp"
#include "platform/unique_fd.hpp"

namespace procview {

class StatRecordStore {
public:
    // Creates `dir` (0700) if needed and removes the records of containers
    // that exited while no daemon was running.
    static Result<std::unique_ptr<StatRecordStore>> open(const std::string& dir, std::size_t max_records,
                                                         std::shared_ptr<spdlog::logger> log);

    // The record of `key`'s container, nullopt if there is none or it is
    // unreadable, garbage or another container's (then it is removed).
    std::optional<StatRecord> load(const StatRecordKey& key);
    // Writes (or replaces) the record; failures are logged, not returned: a
    // record not kept only costs continuity across a restart.
    void save(const StatRecord& record);
    // The shared floor under the counters of `key`'s container, for `cpus`
    // CPUs (counter_floor.hpp), next to its record; nullptr when it has no
    // record (the store is full) or the file cannot be mapped (logged).
    std::unique_ptr<CounterFloor> map_floor(const StatRecordKey& key, std::size_t cpus);
    // Removes the records, their floors (and temporary files left by a kill mid-write)
    // whose init is gone: no process with that pid, pid namespace and start
    // time. Cheap: one readlink and one read per record.
    void prune();
    // Removes every record and the directory: after a clean unmount no
    // container can read these counters again.
    void remove_all();

    [[nodiscard]] const std::string& path() const { return path_; }
    // The record directory and its parent, held from open(): every write,
    // rename and unlink goes through these, so the seccomp filter can allow
    // them on these two fds only.
    [[nodiscard]] int directory_fd() const { return dir_.get(); }
    [[nodiscard]] int parent_fd() const { return parent_.get(); }

private:
    StatRecordStore(std::string path, UniqueFd parent, UniqueFd dir, UniqueFd proc, std::size_t max_records,
                    std::shared_ptr<spdlog::logger> log);
    bool init_alive(const StatRecordKey& key) const;
    std::vector<std::string> list_entries() const;
    void remove_locked(const std::string& name);

    std::string path_;
    UniqueFd parent_;
    UniqueFd dir_;
    UniqueFd proc_;
    std::size_t max_records_;
    std::shared_ptr<spdlog::logger> log_;
    std::mutex mu_;  // guards names_ and the directory's contents
    std::set<std::string> names_;  // the records in the directory
    bool warned_ = false;
};

// The record directory of the instance serving `mountpoint`.
std::string stat_record_dir(const std::string& mountpoint);

}  // namespace procview
