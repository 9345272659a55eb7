#include "hook/mount_plan.hpp"

#include <algorithm>

namespace procview::hook {

namespace {

const std::string* find_in(const Annotations& annotations, std::string_view key) {
    auto it = annotations.find(std::string(key));
    return it == annotations.end() ? nullptr : &it->second;
}

}  // namespace

bool is_view_name(std::string_view name) { return find_view(name) != nullptr; }

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
    std::vector<std::string> wanted = files_annotation ? split_view_names(*files_annotation) : config_files;
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
    // The catalog's order is the mount order.
    for (const auto& view : kViews) {
        if (!chosen(view.name)) continue;
        if (view.name == "cpu_online" && chosen("cpu")) {
            plan.notes.emplace_back("cpu_online: covered by the `cpu` directory view");
            continue;
        }
        if (view.v2_only && !host.pure_cgroup_v2) {
            plan.notes.push_back(std::string(view.name) + ": the host is not pure cgroup v2, procviewfs does not serve it");
            continue;
        }
        for (const auto& p : view.paths)
            plan.mounts.push_back(
                PlannedMount{std::string(view.name), std::string(p.path), std::string(p.path), view.kind, view.fs});
    }
    return plan;
}

namespace {

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
