// Per-container views (fusefs/cached_views.hpp): how a container's directory
// is named, how its inode numbers are made, and how long the kernel may keep
// a rendering. Pure: no I/O.
//
// A container's directory is named after the process whose view it shows
// (the OCI state's pid: the container's init) as "<pid>-<start ticks>", the
// start time being field 22 of /proc/<pid>/stat. A recycled pid has another
// start time, so a name never comes to mean another process.
//
// Inode numbers describe their node completely:
//   bit 63      1 (the shared tree's numbers never set it: tree.hpp uses < 2^63)
//   bits 41-62  the pid (pid_max is at most 2^22)
//   bits 8-40   the start time's low 33 bits (2.7 years of 100 Hz ticks)
//   bits 0-7    the node (NodeIndex)
// So a daemon started after a kill -9, a crash or a --takeover serves every
// number the kernel still holds with nothing kept on disk: it reads the pid's
// start time and checks its low bits. A pid recycled within the same boot
// would need a start time equal modulo 2^33 ticks: 2.7 years apart, to the tick.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace procview {

struct ContainerName {
    pid_t pid = 0;
    uint64_t start_ticks = 0;
    friend bool operator==(const ContainerName&, const ContainerName&) = default;
};

// "<pid>-<start ticks>", both decimal without leading zeros.
std::string format_container_name(const ContainerName& name);
std::optional<ContainerName> parse_container_name(std::string_view text);
// "pid-<pid>": the operator's alias, a symlink to the container's directory.
std::optional<pid_t> parse_pid_alias(std::string_view text);
// "self": like /proc/self, a symlink to the directory of whichever process
// follows it. Bound by a runtime into a container, it names the container's
// init: the runtime's process doing the bind mount (runc init, crun's child)
// is the one that becomes the container's pid 1.
inline constexpr std::string_view kSelfAlias = "self";

// Which node of a container directory an inode number names.
enum class NodeIndex : uint8_t {
    container_dir = 0,
    proc_dir = 1,
    pressure_dir = 2,
    first_file = 0x10,  // + the file's ProcFile value (view_engine.hpp)
    alias = 0xff,       // a pid-<pid> symlink (its start bits are 0), or self (pid 0 too)
};

inline constexpr pid_t kMaxContainerPid = (1 << 22) - 1;

// Whether `ino` is a per-container node.
constexpr bool is_container_ino(uint64_t ino) { return (ino >> 63) != 0; }
// The number of node `index` of container `name` (pid must be ≤ kMaxContainerPid).
uint64_t container_ino(const ContainerName& name, uint8_t index);
uint64_t alias_ino(pid_t pid);
// The number of the self symlink: an alias of pid 0, which no process has.
constexpr uint64_t kSelfAliasIno = (uint64_t{1} << 63) | 0xff;
pid_t pid_of_ino(uint64_t ino);
uint8_t index_of_ino(uint64_t ino);
// The container part of a number (index bits cleared): the key of its entry.
constexpr uint64_t container_key(uint64_t ino) { return ino & ~uint64_t{0xff}; }
// Whether a process with start time `start_ticks` is the one `ino` names.
bool start_matches(uint64_t ino, uint64_t start_ticks);

// The attribute timeout (seconds) to give with content of age `age_ms`: what
// is left of the window, so the kernel asks again (GETATTR, which renders
// anew and, the mtime having moved, drops its pages) once the window is over.
double attr_timeout_s(int64_t age_ms, int64_t window_ms);
// Whether a rendering of age `age_ms` may still be served to a GETATTR
// (window 0: never; every GETATTR renders).
bool servable(int64_t age_ms, int64_t window_ms);

}  // namespace procview
