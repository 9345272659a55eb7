// The catalog of views: the one table of what procview serves and delivers.
//
// Everything else derives from it: the daemon's tree (fusefs/tree.cpp), the
// names accepted in `hook.files` and their defaults (core/config.cpp), the
// hook's mount plan (hook/mount_plan.cpp), the shim's config.json mounts
// (shim/spec_edit.cpp), the view table in docs/hook.md and the tests
// (tests/unit/catalog_test.cpp checks the docs against this table).
//
// A view is what a user names (`procview.io/files: "meminfo stat"`); it is
// served at one or more paths below procviewfs's mountpoint and mounted at the
// same paths below the container's rootfs.
//
// Inode numbers are part of the kernel's state, not ours: `--takeover` hands a
// live FUSE connection, with the kernel's inodes and every open file, from
// one procviewfs to the next, possibly a newer version. The next one must
// answer for the same numbers, so a number, once shipped, never changes and
// is never reused; a new node takes a new number. tests/unit/catalog_test.cpp
// pins them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace procview {

// The annotations a container opts in with; read by the hook and the shim.
inline constexpr std::string_view kEnabledAnnotation = "procview.io/enabled";
inline constexpr std::string_view kFilesAnnotation = "procview.io/files";

// statfs(2) f_type values (linux/magic.h): what a target must be before the
// hook mounts over it, and what a served mountpoint is.
inline constexpr long kProcSuperMagic = 0x9fa0;      // PROC_SUPER_MAGIC
inline constexpr long kSysfsMagic = 0x62656572;      // SYSFS_MAGIC
inline constexpr long kFuseSuperMagic = 0x65735546;  // FUSE_SUPER_MAGIC

// 64-bit FNV-1a: stable across versions and machines (inode numbers and
// socket names are derived from it, so it must never change).
constexpr uint64_t fnv1a64(std::string_view text) {
    uint64_t h = 1469598103934665603ULL;
    for (char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    return h;
}

// Inode numbers at and above this are entries below sys/devices/system/cpu,
// numbered by a hash of their path there; below it, the table's fixed numbers.
inline constexpr uint64_t kCpuEntryInoBase = 1ULL << 62;
// The stable inode number of a path below sys/devices/system/cpu ("cpu1/topology/core_id").
constexpr uint64_t cpu_entry_ino(std::string_view view_path) {
    return kCpuEntryInoBase | (fnv1a64(view_path) & (kCpuEntryInoBase - 1));
}

// The files procviewfs renders (a renderer each in fusefs/view_engine.cpp).
enum class ProcFile { meminfo, cpuinfo, stat, uptime, loadavg, diskstats, swaps, pressure_cpu, pressure_memory, pressure_io, vmstat };

enum class TargetFs { procfs, sysfs };  // what the container's target must be
enum class EntryKind { file, directory };

struct ViewPath {
    std::string_view path;  // below the mountpoint, and the same below the container's rootfs
    uint64_t ino;           // stable inode number (see the top of this file)
    ProcFile file;          // its renderer (proc files only)
};

struct View {
    std::string_view name;             // as written in hook.files and procview.io/files
    std::span<const ViewPath> paths;   // in mount order
    EntryKind kind;
    TargetFs fs;
    // runc refuses config.json mounts inside /proc except its allowlist
    // (cpuinfo diskstats meminfo stat swaps uptime loadavg …, libcontainer
    // rootfs_linux.go checkProcMount): the others only the hook can mount.
    bool config_mount;
    bool default_on;  // in hook.files by default
    bool v2_only;     // served only to readers in a non-root cgroup v2 (needs a pure v2 host)
};

namespace catalog_detail {
inline constexpr ViewPath kMeminfo[] = {{"proc/meminfo", 10, ProcFile::meminfo}};
inline constexpr ViewPath kCpuinfo[] = {{"proc/cpuinfo", 11, ProcFile::cpuinfo}};
inline constexpr ViewPath kStat[] = {{"proc/stat", 12, ProcFile::stat}};
inline constexpr ViewPath kUptime[] = {{"proc/uptime", 13, ProcFile::uptime}};
inline constexpr ViewPath kLoadavg[] = {{"proc/loadavg", 14, ProcFile::loadavg}};
inline constexpr ViewPath kDiskstats[] = {{"proc/diskstats", 15, ProcFile::diskstats}};
inline constexpr ViewPath kSwaps[] = {{"proc/swaps", 16, ProcFile::swaps}};
inline constexpr ViewPath kVmstat[] = {{"proc/vmstat", 17, ProcFile::vmstat}};
inline constexpr ViewPath kPressure[] = {{"proc/pressure/cpu", 20, ProcFile::pressure_cpu},
                                         {"proc/pressure/memory", 21, ProcFile::pressure_memory},
                                         {"proc/pressure/io", 22, ProcFile::pressure_io}};
inline constexpr ViewPath kCpuOnline[] = {{"sys/devices/system/cpu/online", cpu_entry_ino("online"), ProcFile::meminfo}};
inline constexpr ViewPath kCpuDir[] = {{"sys/devices/system/cpu", 6, ProcFile::meminfo}};
}  // namespace catalog_detail

// One row per view; the row order is the hook's mount order and the tree's listing order.
inline constexpr View kViews[] = {
    //  name       paths                          kind              fs                config  default v2-only
    {"meminfo", catalog_detail::kMeminfo, EntryKind::file, TargetFs::procfs, true, true, false},
    {"cpuinfo", catalog_detail::kCpuinfo, EntryKind::file, TargetFs::procfs, true, true, false},
    {"stat", catalog_detail::kStat, EntryKind::file, TargetFs::procfs, true, true, false},
    {"uptime", catalog_detail::kUptime, EntryKind::file, TargetFs::procfs, true, true, false},
    {"loadavg", catalog_detail::kLoadavg, EntryKind::file, TargetFs::procfs, true, true, false},
    {"diskstats", catalog_detail::kDiskstats, EntryKind::file, TargetFs::procfs, true, true, false},
    {"swaps", catalog_detail::kSwaps, EntryKind::file, TargetFs::procfs, true, true, false},
    {"vmstat", catalog_detail::kVmstat, EntryKind::file, TargetFs::procfs, false, true, false},
    {"pressure", catalog_detail::kPressure, EntryKind::file, TargetFs::procfs, false, true, true},
    // Off by default: `cpu` (the directory holding `online`) is on, and covers it.
    {"cpu_online", catalog_detail::kCpuOnline, EntryKind::file, TargetFs::sysfs, true, false, false},
    {"cpu", catalog_detail::kCpuDir, EntryKind::directory, TargetFs::sysfs, true, true, false},
};

// The directories of the served tree that are no view of their own.
struct TreeDir {
    std::string_view path;  // "" = the root
    uint64_t ino;
};
inline constexpr TreeDir kTreeDirs[] = {
    {"", 1}, {"proc", 2}, {"sys", 3}, {"sys/devices", 4}, {"sys/devices/system", 5}, {"proc/pressure", 7},
    {"containers", 8},  // per-container directories (fusefs/cached_views.hpp; core/freshness.hpp numbers them)
};
// The one directory served from the host's tree, seen through the reader's CPU view.
inline constexpr std::string_view kCpuDirPath = "sys/devices/system/cpu";
inline constexpr uint64_t kCpuDirIno = 6;

// The row named `name`, nullptr when none is.
const View* find_view(std::string_view name);
// The row serving `file`, and the path it is served at.
const View& view_of(ProcFile file);
const ViewPath& path_of(ProcFile file);
// The view names, blank-separated, in table order ("meminfo cpuinfo … cpu").
std::string view_names();
// The default-on view names, in table order (HookConfig::files's default).
std::vector<std::string> default_view_names();

// The view names in a `procview.io/files` value: separated by commas and/or
// blanks (podman's --annotation splits its value at commas, so users write
// "meminfo stat"); empty items are dropped, the order and duplicates kept.
std::vector<std::string> split_view_names(std::string_view list);

}  // namespace procview
