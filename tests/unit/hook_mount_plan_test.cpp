// Opt-in, file selection and target checks of procview-hook.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "hook/mount_plan.hpp"

using namespace procview::hook;
using procview::EntryKind;
using procview::TargetFs;

namespace {

std::vector<std::string> targets(const MountPlan& plan) {
    std::vector<std::string> out;
    for (const auto& m : plan.mounts) out.push_back(m.target);
    return out;
}

bool has_note(const MountPlan& plan, std::string_view text) {
    for (const auto& n : plan.notes)
        if (n.find(text) != std::string::npos) return true;
    return false;
}

const HostFacts kHybrid{false};
const HostFacts kPureV2{true};

}  // namespace

TEST_CASE("opt-in is exactly procview.io/enabled=true, state first") {
    CHECK(opted_in({{"procview.io/enabled", "true"}}, {}));
    CHECK(opted_in({}, {{"procview.io/enabled", "true"}}));
    CHECK_FALSE(opted_in({}, {}));
    CHECK_FALSE(opted_in({{"procview.io/enabled", "True"}}, {}));
    CHECK_FALSE(opted_in({{"procview.io/enabled", "1"}}, {}));
    CHECK_FALSE(opted_in({{"procview.io/enabled", "false"}}, {{"procview.io/enabled", "true"}}));
    CHECK_FALSE(opted_in({{"procview.io/enabled ", "true"}}, {}));
}

TEST_CASE("the default file set on a hybrid host: no pressure, the cpu directory") {
    const procview::HookConfig defaults;
    auto plan = plan_mounts(std::nullopt, defaults.files, kHybrid);
    CHECK(targets(plan) == std::vector<std::string>{"proc/meminfo", "proc/cpuinfo", "proc/stat", "proc/uptime",
                                                    "proc/loadavg", "proc/diskstats", "proc/swaps", "proc/vmstat",
                                                    "sys/devices/system/cpu"});
    CHECK(has_note(plan, "pressure: the host is not pure cgroup v2"));
    const auto& cpu = plan.mounts.back();
    CHECK(cpu.source == "sys/devices/system/cpu");
    CHECK(cpu.kind == EntryKind::directory);
    CHECK(cpu.fs == TargetFs::sysfs);
    CHECK(plan.mounts.front().kind == EntryKind::file);
    CHECK(plan.mounts.front().fs == TargetFs::procfs);
}

TEST_CASE("vmstat is one procfs file, on any cgroup layout") {
    for (const auto& host : {kHybrid, kPureV2}) {
        auto plan = plan_mounts(std::string("vmstat"), {}, host);
        REQUIRE(plan.mounts.size() == 1);
        CHECK(plan.mounts[0].source == "proc/vmstat");
        CHECK(plan.mounts[0].target == "proc/vmstat");
        CHECK(plan.mounts[0].kind == EntryKind::file);
        CHECK(plan.mounts[0].fs == TargetFs::procfs);
        CHECK(plan.notes.empty());
    }
}

TEST_CASE("pressure on a pure cgroup v2 host is three files") {
    auto plan = plan_mounts(std::string("pressure"), {}, kPureV2);
    CHECK(targets(plan) == std::vector<std::string>{"proc/pressure/cpu", "proc/pressure/memory", "proc/pressure/io"});
    for (const auto& m : plan.mounts) CHECK(m.source == m.target);
    CHECK(plan.notes.empty());
}

TEST_CASE("procview.io/files picks a subset, in mount order, tolerant of spaces") {
    auto plan = plan_mounts(std::string(" stat,meminfo ,, cpuinfo,meminfo"), {"uptime"}, kHybrid);
    CHECK(targets(plan) == std::vector<std::string>{"proc/meminfo", "proc/cpuinfo", "proc/stat"});
    CHECK(plan.notes.empty());
}

TEST_CASE("procview.io/files may be separated by blanks (podman splits --annotation at commas)") {
    auto plan = plan_mounts(std::string("uptime  meminfo\tstat"), {}, kHybrid);
    CHECK(targets(plan) == std::vector<std::string>{"proc/meminfo", "proc/stat", "proc/uptime"});
}

TEST_CASE("unknown names are noted and left out") {
    auto plan = plan_mounts(std::string("meminfo,slabinfo,../../etc/passwd"), {}, kHybrid);
    CHECK(targets(plan) == std::vector<std::string>{"proc/meminfo"});
    CHECK(has_note(plan, "unknown view `slabinfo` in procview.io/files"));
    CHECK(has_note(plan, "unknown view `../../etc/passwd`"));

    auto from_config = plan_mounts(std::nullopt, {"meminfo", "nope"}, kHybrid);
    CHECK(has_note(from_config, "unknown view `nope` in hook.files"));
}

TEST_CASE("an empty procview.io/files mounts nothing") {
    auto plan = plan_mounts(std::string(" , "), {"meminfo"}, kHybrid);
    CHECK(plan.mounts.empty());
    CHECK(has_note(plan, "procview.io/files is empty"));
}

TEST_CASE("cpu_online alone is the online file; with cpu it is covered") {
    auto alone = plan_mounts(std::string("cpu_online"), {}, kHybrid);
    REQUIRE(alone.mounts.size() == 1);
    CHECK(alone.mounts[0].target == "sys/devices/system/cpu/online");
    CHECK(alone.mounts[0].kind == EntryKind::file);
    CHECK(alone.mounts[0].fs == TargetFs::sysfs);

    auto both = plan_mounts(std::string("cpu_online,cpu"), {}, kHybrid);
    CHECK(targets(both) == std::vector<std::string>{"sys/devices/system/cpu"});
    CHECK(has_note(both, "cpu_online: covered"));
}

TEST_CASE("every name core accepts is one the hook can mount") {
    for (const char* name : {"meminfo", "cpuinfo", "stat", "uptime", "loadavg", "diskstats", "swaps", "vmstat",
                             "pressure", "cpu_online", "cpu"}) {
        CAPTURE(name);
        CHECK(is_view_name(name));
        CHECK(procview::is_known_view_name(name));
    }
    CHECK_FALSE(is_view_name("slabinfo"));
}

TEST_CASE("target_mismatch accepts only the expected type on the expected filesystem") {
    constexpr unsigned kReg = 0100444, kDir = 0040755, kLnk = 0120777, kChr = 0020666;
    constexpr long kProc = 0x9fa0, kSysfs = 0x62656572, kFuse = 0x65735546, kExt4 = 0xef53, kTmpfs = 0x01021994;

    CHECK_FALSE(target_mismatch(kReg, kProc, EntryKind::file, TargetFs::procfs).has_value());
    CHECK_FALSE(target_mismatch(kDir, kSysfs, EntryKind::directory, TargetFs::sysfs).has_value());
    CHECK_FALSE(target_mismatch(kReg, kSysfs, EntryKind::file, TargetFs::sysfs).has_value());

    CHECK(target_mismatch(kDir, kProc, EntryKind::file, TargetFs::procfs) == "is a directory, expected a regular file");
    CHECK(target_mismatch(kLnk, kProc, EntryKind::file, TargetFs::procfs) == "is a symlink: not followed");
    CHECK(target_mismatch(kChr, kTmpfs, EntryKind::file, TargetFs::procfs) == "is not a regular file");
    CHECK(target_mismatch(kReg, kSysfs, EntryKind::directory, TargetFs::sysfs) == "is not a directory");
    CHECK(target_mismatch(kReg, kExt4, EntryKind::file, TargetFs::procfs) ==
          "is on filesystem type 0xef53, expected procfs (0x9fa0)");
    CHECK(target_mismatch(kDir, kTmpfs, EntryKind::directory, TargetFs::sysfs) ==
          "is on filesystem type 0x1021994, expected sysfs (0x62656572)");
    // A second hook run (prestart and createRuntime both registered) finds its own mount.
    CHECK(target_mismatch(kReg, kFuse, EntryKind::file, TargetFs::procfs) ==
          "is already a FUSE mount, expected procfs: mounted over before");
}

TEST_CASE("per-container files: proc/ sources become the container's own directory, sys/ stays shared, targets unchanged") {
    const procview::HookConfig defaults;
    CHECK(defaults.per_container);
    auto plan = plan_mounts(std::nullopt, defaults.files, kPureV2);
    auto before = targets(plan);
    use_container_files(plan, "4242-123456");
    CHECK(targets(plan) == before);
    for (const auto& m : plan.mounts) {
        if (m.target.starts_with("proc/"))
            CHECK_MESSAGE(m.source == "containers/4242-123456/" + m.target, m.source);
        else
            CHECK(m.source == "sys/devices/system/cpu");
    }
    CHECK(std::any_of(plan.mounts.begin(), plan.mounts.end(),
                      [](const PlannedMount& m) { return m.source == "containers/4242-123456/proc/pressure/cpu"; }));
}

TEST_CASE("per-container files from another mount (hook.containers_mountpoint): absolute proc/ sources") {
    const procview::HookConfig defaults;
    CHECK(defaults.containers_mountpoint == "/var/lib/procview-containers");
    auto plan = plan_mounts(std::nullopt, defaults.files, kHybrid);
    use_container_files(plan, "17-99", "/var/lib/procview-c");
    CHECK(plan.mounts.front().source == "/var/lib/procview-c/containers/17-99/proc/meminfo");
    CHECK(plan.mounts.back().source == "sys/devices/system/cpu");
}
