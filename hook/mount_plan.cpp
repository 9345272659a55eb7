#include "hook/mount_plan.hpp"

#include <algorithm>

namespace procview::hook {

namespace {

struct ViewTarget {
    std::string_view source;
    std::string_view target;
    EntryKind kind;
    TargetFs fs;
};

struct ViewEntry {
    std::string_view name;
    std::vector<ViewTarget> targets;
    bool needs_pure_v2 = false;
};

// One row per name accepted in hook.files; the row order is the mount order.
const std::vector<ViewEntry>& view_table() {
    static const std::vector<ViewEntry> table{
        {"meminfo", {{"proc/meminfo", "proc/meminfo", EntryKind::file, TargetFs::procfs}}},
        {"cpuinfo", {{"proc/cpuinfo", "proc/cpuinfo", EntryKind::file, TargetFs::procfs}}},
        {"stat", {{"proc/stat", "proc/stat", EntryKind::file, TargetFs::procfs}}},
        {"uptime", {{"proc/uptime", "proc/uptime", EntryKind::file, TargetFs::procfs}}},
        {"loadavg", {{"proc/loadavg", "proc/loadavg", EntryKind::file, TargetFs::procfs}}},
        {"diskstats", {{"proc/diskstats", "proc/diskstats", EntryKind::file, TargetFs::procfs}}},
        {"swaps", {{"proc/swaps", "proc/swaps", EntryKind::file, TargetFs::procfs}}},
        {"vmstat", {{"proc/vmstat", "proc/vmstat", EntryKind::file, TargetFs::procfs}}},
        {"pressure",
         {{"proc/pressure/cpu", "proc/pressure/cpu", EntryKind::file, TargetFs::procfs},
          {"proc/pressure/memory", "proc/pressure/memory", EntryKind::file, TargetFs::procfs},
          {"proc/pressure/io", "proc/pressure/io", EntryKind::file, TargetFs::procfs}},
         true},
        {"cpu_online",
         {{"sys/devices/system/cpu/online", "sys/devices/system/cpu/online", EntryKind::file, TargetFs::sysfs}}},
        {"cpu", {{"sys/devices/system/cpu", "sys/devices/system/cpu", EntryKind::directory, TargetFs::sysfs}}},
    };
    return table;
}

// Commas or blanks separate names: podman's --annotation splits its value at
// commas, so "meminfo stat" must work as well as "meminfo,stat".
std::vector<std::string> split_names(std::string_view list) {
    std::vector<std::string> names;
    while (true) {
        auto sep = list.find_first_of(", \t");
        auto name = list.substr(0, sep);
        if (!name.empty()) names.emplace_back(name);
        if (sep == std::string_view::npos) break;
        list.remove_prefix(sep + 1);
    }
    return names;
}

const std::string* find_in(const Annotations& annotations, std::string_view key) {
    auto it = annotations.find(std::string(key));
    return it == annotations.end() ? nullptr : &it->second;
}

}  // namespace

bool is_view_name(std::string_view name) {
    const auto& table = view_table();
    return std::any_of(table.begin(), table.end(), [&](const ViewEntry& e) { return e.name == name; });
}

std::optional<std::string> annotation(const Annotations& state, const Annotations& config, std::string_view key) {
    if (const auto* v = find_in(state, key)) return *v;
    if (const auto* v = find_in(config, key)) return *v;
    return std::nullopt;
}

bool opted_in(const Annotations& state, const Annotations& config) {
    // Exactly "true", like the hooks.d entry's `^true$`: the hook and the
    // runtime's matcher must agree on who is in.
    return annotation(state, config, kEnabledAnnotation) == "true";
}

MountPlan plan_mounts(const std::optional<std::string>& files_annotation,
                      const std::vector<std::string>& config_files, const HostFacts& host) {
    MountPlan plan;
    std::vector<std::string> wanted = files_annotation ? split_names(*files_annotation) : config_files;
    if (files_annotation && wanted.empty())
        plan.notes.emplace_back(std::string(kFilesAnnotation) + " is empty: nothing to mount");

    for (const auto& name : wanted)
        if (!is_view_name(name))
            plan.notes.push_back("unknown view `" + name + "` in " +
                                 (files_annotation ? std::string(kFilesAnnotation) : std::string("hook.files")) +
                                 ": ignored");

    auto chosen = [&](std::string_view name) {
        return std::find(wanted.begin(), wanted.end(), name) != wanted.end();
    };
    for (const auto& entry : view_table()) {
        if (!chosen(entry.name)) continue;
        if (entry.name == "cpu_online" && chosen("cpu")) {
            plan.notes.emplace_back("cpu_online: covered by the `cpu` directory view");
            continue;
        }
        if (entry.needs_pure_v2 && !host.pure_cgroup_v2) {
            plan.notes.push_back(std::string(entry.name) +
                                 ": the host is not pure cgroup v2, procviewfs serves no pressure files");
            continue;
        }
        for (const auto& t : entry.targets)
            plan.mounts.push_back(PlannedMount{std::string(entry.name), std::string(t.source),
                                               std::string(t.target), t.kind, t.fs});
    }
    return plan;
}

namespace {

constexpr long kProcSuperMagic = 0x9fa0;      // PROC_SUPER_MAGIC, linux/magic.h
constexpr long kSysfsMagic = 0x62656572;      // SYSFS_MAGIC
constexpr long kFuseSuperMagic = 0x65735546;  // FUSE_SUPER_MAGIC

std::string hex(long v) {
    static constexpr char digits[] = "0123456789abcdef";
    auto u = static_cast<unsigned long>(v);
    std::string out;
    do {
        out.insert(out.begin(), digits[u & 0xf]);
        u >>= 4;
    } while (u != 0);
    return "0x" + out;
}

}  // namespace

std::optional<std::string> target_mismatch(unsigned mode, long f_type, EntryKind kind, TargetFs fs) {
    constexpr unsigned kTypeMask = 0170000, kRegular = 0100000, kDirectory = 0040000, kSymlink = 0120000;
    const unsigned type = mode & kTypeMask;
    if (type == kSymlink) return "is a symlink: not followed";
    if (kind == EntryKind::file && type == kDirectory) return "is a directory, expected a regular file";
    if (kind == EntryKind::file && type != kRegular) return "is not a regular file";
    if (kind == EntryKind::directory && type != kDirectory) return "is not a directory";
    const long want = fs == TargetFs::procfs ? kProcSuperMagic : kSysfsMagic;
    const char* want_name = fs == TargetFs::procfs ? "procfs" : "sysfs";
    if (f_type == want) return std::nullopt;
    if (f_type == kFuseSuperMagic)
        return std::string("is already a FUSE mount, expected ") + want_name + ": mounted over before";
    return "is on filesystem type " + hex(f_type) + ", expected " + want_name + " (" + hex(want) + ")";
}

void use_container_files(MountPlan& plan, std::string_view container_name, std::string_view other_mountpoint) {
    const std::string prefix =
        (other_mountpoint.empty() ? "" : std::string(other_mountpoint) + "/") + "containers/" + std::string(container_name) + "/";
    for (auto& m : plan.mounts)
        if (m.source.starts_with("proc/")) m.source = prefix + m.source;
}

}  // namespace procview::hook
