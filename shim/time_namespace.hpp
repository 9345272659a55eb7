// Time namespaces for opted-in containers: the decisions (pure).
//
// Why: procps computes a process's start as now − /proc/uptime + its
// /proc/<pid>/stat start time. A container's uptime (procviewfs's view) counts
// from the container's start, but the kernel counts start times from the
// host's boot, so `ps` inside showed start times in the future and negative
// elapsed times (lxcfs has the same bug). In a time namespace with a boottime
// offset the kernel shifts /proc/uptime, sysinfo(2), /proc/stat's btime and
// every /proc/<pid>/stat start time it shows there by the same amount, so
// they agree (fs/proc/{uptime,stat,array}.c, kernel/time/namespace.c).
// runc 1.1 and crun 1.8 cannot create one (runc ≥ 1.2 has linux.timeOffsets),
// so procview-runtime does it around them:
//
//   create/run   unshare(CLONE_NEWTIME), write the boottime offset to
//                /proc/self/timens_offsets, execve the runtime: execve moves the
//                caller into its time namespace for children (kernel commit "fs/exec:
//                switch timens when a task gets a new mm"), so the runtime,
//                `runc init` and the container are all inside.
//   later calls  (start, state, kill, exec, delete, …) setns into the time
//                namespace of the container's init before execve. This is not
//                optional: runc records the init's start time as it read it
//                (shifted) and decides "running" by comparing it with
//                /proc/<pid>/stat as it reads it then, so a runc call outside
//                the namespace would take the container for stopped. And for
//                exec it puts the new process (where users run ps) inside. The
//                recorded start time also says which namespace the runtime was
//                in when it recorded it: the join is kept only when they agree.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/proc_files.hpp"
#include "core/result.hpp"
#include "shim/spec_edit.hpp"

namespace procview::shim {

// The container's CLOCK_BOOTTIME starts this far above 0 (whole seconds
// plus the fraction of the host's boottime at creation): never 0, which
// tools dividing by the uptime would trip on.
inline constexpr int64_t kBoottimeMarginSeconds = 1;

// linux.namespaces holds {"type": "time"}: the runtime makes the namespace
// (runc ≥ 1.2, crun with timeOffsets support); procview-runtime leaves it alone.
bool spec_requests_time_namespace(const Spec& spec);

// The boottime offset for a new container's namespace, relative to the
// initial time namespace as the kernel wants it: −floor(host boottime) +
// margin, nanoseconds 0. `own_boottime_ns` is CLOCK_BOOTTIME as the caller
// reads it; `own_offset` the caller's own namespace's boottime offset (0 in
// the initial one), so a shim running inside a time namespace still counts
// from the host's boot. Only CLOCK_BOOTTIME is shifted: /proc shows nothing
// counted on CLOCK_MONOTONIC, while processes inside and outside compare
// monotonic timestamps (timeouts handed over pipes, journald's, Go's
// runtime in runc and runc init), which an offset would break.
ClockOffset new_container_boottime_offset(int64_t own_boottime_ns, const ClockOffset& own_offset);

// Subcommands that act on an existing container (runc 1.1, crun 1.8) and so
// must run in its time namespace.
bool subcommand_joins_container(std::string_view subcommand);

// The container's init as its runtime recorded it.
struct RecordedInit {
    pid_t pid = 0;
    // Its /proc/<pid>/stat start time as the runtime read it (in the
    // container's time namespace); nullopt when the state does not record it.
    std::optional<uint64_t> start_ticks;
};
// runc's <root>/<id>/state.json (init_process_pid, init_process_start) or
// crun's <root>/<id>/status (pid, process-start-time). An error when neither
// shape is there or the pid is not positive.
Result<RecordedInit> parse_runtime_state(std::string_view text);

// A namespace as the kernel names it: the st_dev and st_ino of its nsfs file.
struct NamespaceId {
    uint64_t dev = 0;
    uint64_t ino = 0;
    friend bool operator==(const NamespaceId&, const NamespaceId&) = default;
};

// The record procview-runtime keeps of each time namespace it made: which
// namespace it gave the container. A later call joins only that namespace
// (and only when the kernel says the shim's own user namespace owns it), so a
// container whose init moved into a namespace of its own making, or a state
// file pointing at some other process, never gets the runtime, running as
// root, into a namespace with clocks someone else chose.
// "<dev> <ino>\n"; parsing rejects anything else.
std::string format_time_namespace_record(const NamespaceId& ns);
std::optional<NamespaceId> parse_time_namespace_record(std::string_view text);

// Where that record lives: a file next to the container's state directory,
// <root>/.procview-timens:<id>, in the runtime's state root (the same root
// state_file_candidates reads first, so create and later calls agree). A file
// rather than a directory, and a leading dot and a ':' that runc's ids cannot
// hold: `runc list` skips files, crun's skips dot entries. The root is the
// runtime's own (0700 root for runc and crun). nullopt for a bad id or no root.
std::optional<std::string> time_namespace_record_path(const std::optional<std::string>& root, std::string_view id,
                                                      std::string_view runtime_path, bool as_root,
                                                      const std::optional<std::string>& xdg_runtime_dir);

// `delete` with --force/-f (any spelling runc and crun accept) among its
// arguments: the runtime removes the container even while it runs.
bool delete_is_forced(const std::vector<std::string>& runtime_args, std::size_t subcommand_index);

// Where the runtime keeps the container's state, most likely first: with
// --root given, <root>/<id>/state.json (runc) and <root>/<id>/status (crun);
// without, the defaults /run/runc and /run/crun, or $XDG_RUNTIME_DIR/{runc,crun}
// when not root. A runtime whose file name holds "crun" puts crun's first.
// None for an id that is empty, ".", ".." or holds a '/'.
std::vector<std::string> state_file_candidates(const std::optional<std::string>& root, std::string_view id,
                                               std::string_view runtime_path, bool as_root,
                                               const std::optional<std::string>& xdg_runtime_dir);

}  // namespace procview::shim
