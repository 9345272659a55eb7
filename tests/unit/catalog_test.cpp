// core/catalog: the one table of views, and what derives from it.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "core/catalog.hpp"
#include "core/config.hpp"
#include "fusefs/keeper_socket.hpp"
#include "fusefs/tree.hpp"
#include "fusefs/view_engine.hpp"
#include "hook/mount_plan.hpp"

#include "fixtures.hpp"

using namespace procview;

namespace {

// A file of the repository (tests/fixtures is two levels below its top).
std::string repo_file(const std::string& relative) { return test::read_fixture("../../" + relative); }

}  // namespace

// --takeover hands the kernel's FUSE connection, with its inodes and open
// files, to the next procviewfs, maybe a newer version: these numbers are
// what the kernel holds. Never change a line here; add new nodes with new numbers.
TEST_CASE("catalog: inode numbers are pinned") {
    const std::vector<std::pair<std::string_view, uint64_t>> pinned{
        {"", 1},
        {"proc", 2},
        {"sys", 3},
        {"sys/devices", 4},
        {"sys/devices/system", 5},
        {"sys/devices/system/cpu", 6},
        {"proc/pressure", 7},
        {"containers", 8},
        {"proc/meminfo", 10},
        {"proc/cpuinfo", 11},
        {"proc/stat", 12},
        {"proc/uptime", 13},
        {"proc/loadavg", 14},
        {"proc/diskstats", 15},
        {"proc/swaps", 16},
        {"proc/vmstat", 17},
        {"proc/pressure/cpu", 20},
        {"proc/pressure/memory", 21},
        {"proc/pressure/io", 22},
        // Below the cpu directory: 2^62 | FNV-1a of the path below it.
        {"sys/devices/system/cpu/online", 0x48eeeeea5b670d34ULL},
    };
    std::map<std::string_view, uint64_t> catalog;
    for (const auto& d : kTreeDirs) catalog[d.path] = d.ino;
    for (const auto& v : kViews)
        for (const auto& p : v.paths) catalog[p.path] = p.ino;
    CHECK(catalog.size() == pinned.size());
    for (const auto& [path, ino] : pinned) {
        CAPTURE(path);
        REQUIRE(catalog.count(path) == 1);
        CHECK(catalog[path] == ino);
    }
    CHECK(cpu_entry_ino("cpu0/topology/core_id") == 0x770608b2c84adc01ULL);
    CHECK(kCpuDirIno == 6);
}

TEST_CASE("catalog: the daemon's tree is the catalog's, with its numbers and kinds") {
    Tree tree(-1);
    for (const auto& view : kViews) {
        for (const auto& p : view.paths) {
            CAPTURE(p.path);
            if (p.ino >= kCpuEntryInoBase) {
                CHECK(cpu_path_ino(p.path.substr(kCpuDirPath.size() + 1)) == p.ino);
                continue;
            }
            NodeRef node = tree.find(p.ino);
            REQUIRE(node);
            CHECK(p.path.ends_with(node->name));
            if (view.kind == EntryKind::directory) {
                CHECK(node->kind == NodeKind::sys_cpu);
            } else {
                CHECK(node->kind == (view.v2_only ? NodeKind::pressure_file : NodeKind::proc_file));
                CHECK(node->file == p.file);
                CHECK("proc/" + std::string(proc_file_name(p.file)) == p.path);
            }
        }
    }
    // Each node hangs below its path's parent.
    NodeRef pressure = tree.find(20);
    REQUIRE(pressure);
    CHECK(pressure->parent == 7);
    CHECK(tree.find(6)->parent == 5);
    CHECK(tree.static_children(Tree::kRoot).size() == 3);  // proc, sys, containers
}

TEST_CASE("catalog: every ProcFile has exactly one row") {
    std::set<ProcFile> seen;
    for (const auto& view : kViews)
        if (view.kind == EntryKind::file && view.fs == TargetFs::procfs)
            for (const auto& p : view.paths) CHECK(seen.insert(p.file).second);
    CHECK(seen.size() == static_cast<std::size_t>(ProcFile::vmstat) + 1);
    CHECK(proc_file_name(ProcFile::pressure_io) == "pressure/io");
    CHECK(view_of(ProcFile::pressure_memory).name == "pressure");
}

TEST_CASE("catalog: a config.json mount only where runc allows one") {
    // runc's checkProcMount allowlist (libcontainer/rootfs_linux.go); /sys has none.
    const std::set<std::string_view> runc_allows{"proc/cpuinfo", "proc/diskstats", "proc/meminfo", "proc/stat",
                                                 "proc/swaps",   "proc/uptime",    "proc/loadavg", "proc/slabinfo"};
    for (const auto& view : kViews) {
        CAPTURE(view.name);
        bool allowed = true;
        for (const auto& p : view.paths)
            if (view.fs == TargetFs::procfs && !runc_allows.count(p.path)) allowed = false;
        CHECK(view.config_mount == allowed);
    }
}

TEST_CASE("catalog: split_view_names takes commas and blanks alike") {
    using V = std::vector<std::string>;
    CHECK(split_view_names("meminfo stat") == V{"meminfo", "stat"});
    CHECK(split_view_names("meminfo,stat") == V{"meminfo", "stat"});
    CHECK(split_view_names(" meminfo ,\tstat,, cpu ") == V{"meminfo", "stat", "cpu"});
    CHECK(split_view_names("").empty());
    CHECK(split_view_names(" , ").empty());
}

TEST_CASE("catalog: the defaults and the accepted names are the catalog's") {
    CHECK(HookConfig{}.files == default_view_names());
    CHECK(default_view_names() ==
          std::vector<std::string>{"meminfo", "cpuinfo", "stat", "uptime", "loadavg", "diskstats", "swaps", "vmstat",
                                   "pressure", "cpu"});
    for (const auto& view : kViews) {
        CHECK(is_known_view_name(view.name));
        CHECK(hook::is_view_name(view.name));
    }
    auto bad = parse_config(R"({"hook": {"files": ["slabinfo"]}})");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("(known: " + view_names() + ")") != std::string::npos);
}

TEST_CASE("catalog: the hook's plan mounts each chosen view's paths, in catalog order, on its filesystem") {
    auto plan = hook::plan_mounts(std::nullopt, default_view_names(), hook::HostFacts{true});
    std::vector<std::string> targets;
    for (const auto& m : plan.mounts) {
        const View* view = find_view(m.view);
        REQUIRE(view);
        CHECK(m.fs == view->fs);
        CHECK(m.kind == view->kind);
        CHECK(m.source == m.target);
        targets.push_back(m.target);
    }
    std::vector<std::string> expected;
    for (const auto& view : kViews)
        if (view.default_on)
            for (const auto& p : view.paths) expected.emplace_back(p.path);
    CHECK(targets == expected);
}

TEST_CASE("catalog: one FNV-1a for inode numbers and the keeper's socket name") {
    CHECK(fnv1a64("") == 1469598103934665603ULL);
    CHECK(mountpoint_hash("/var/lib/procview") == "a2559eeca8aecb73");
}

// The view table in docs/hook.md is generated from the catalog: a change to
// either without the other fails here.
TEST_CASE("catalog: docs/hook.md's view table matches the catalog") {
    std::string table =
        "| view | served at (below the mountpoint) and mounted at (below the rootfs) | must be | inode | config.json "
        "mount | in `hook.files` by default | cgroup v2 only |\n|---|---|---|---|---|---|---|\n";
    for (const auto& view : kViews) {
        std::string paths, inos;
        for (const auto& p : view.paths) {
            paths += (paths.empty() ? "`" : ", `") + std::string(p.path) + "`";
            std::ostringstream ino;
            if (p.ino >= kCpuEntryInoBase) ino << "hash";
            else ino << p.ino;
            inos += (inos.empty() ? "" : ", ") + ino.str();
        }
        std::string fs = std::string(view.fs == TargetFs::procfs ? "procfs" : "sysfs") +
                         (view.kind == EntryKind::directory ? " directory" : " file");
        table += "| `" + std::string(view.name) + "` | " + paths + " | " + fs + " | " + inos + " | " +
                 (view.config_mount ? "yes" : "no: hook only") + " | " + (view.default_on ? "yes" : "no") + " | " +
                 (view.v2_only ? "yes" : "no") + " |\n";
    }
    const std::string doc = repo_file("docs/hook.md");
    REQUIRE_FALSE(doc.empty());
    CHECK_MESSAGE(doc.find(table) != std::string::npos, "docs/hook.md should hold, verbatim:\n" << table);
    std::string defaults;
    for (const auto& name : default_view_names()) defaults += (defaults.empty() ? "" : " ") + name;
    CHECK(doc.find("| `hook.files` | `" + defaults + "` |") != std::string::npos);
}
