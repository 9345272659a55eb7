// fusefs/tree: which sys/devices/system/cpu names are remembered. Any reader
// can look up any name, so only names that exist may cost the daemon memory,
// and never more than the cap; past it nodes still resolve (inode numbers are
// a hash of the path, the same whether remembered or not).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "fusefs/tree.hpp"
#include "platform/unique_fd.hpp"

using namespace procview;

namespace {

// A fake host CPU directory: cpu0/topology/core_id, cpu1/topology/core_id, online.
struct FakeCpuDir {
    std::filesystem::path root;
    UniqueFd fd;
    FakeCpuDir() {
        char tmpl[] = "/tmp/pv-tree-XXXXXX";
        root = ::mkdtemp(tmpl);
        for (const char* cpu : {"cpu0", "cpu1"}) {
            std::filesystem::create_directories(root / cpu / "topology");
            std::ofstream(root / cpu / "topology" / "core_id") << "0\n";
        }
        std::ofstream(root / "online") << "0-1\n";
        fd = UniqueFd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    }
    ~FakeCpuDir() { std::filesystem::remove_all(root); }
};

NodeRef lookup_path(Tree& tree, std::initializer_list<const char*> names) {
    NodeRef node = tree.find(Tree::kCpuDir);
    for (const char* name : names) {
        node = tree.remember(tree.child(*node, name));
        if (!node) return nullptr;
    }
    return node;
}

}  // namespace

TEST_CASE("tree: child() of a sys_cpu directory remembers nothing; remember() does") {
    FakeCpuDir host;
    Tree tree(host.fd.get());
    NodeRef cpu_dir = tree.find(Tree::kCpuDir);
    REQUIRE(cpu_dir);
    // 1000 names that a reader looked up and that do not exist: no node stays.
    for (int i = 0; i < 1000; ++i) {
        NodeRef n = tree.child(*cpu_dir, "no-such-name-" + std::to_string(i));
        REQUIRE(n);
        CHECK(n->ino == cpu_path_ino("no-such-name-" + std::to_string(i)));
    }
    CHECK(tree.remembered() == 0);
    NodeRef online = tree.remember(tree.child(*cpu_dir, "online"));
    REQUIRE(online);
    CHECK(tree.remembered() == 1);
    CHECK(tree.find(online->ino) == online);
    // Looked up again: the remembered node, not a second one.
    CHECK(tree.remember(tree.child(*cpu_dir, "online")) == online);
    CHECK(tree.remembered() == 1);
}

TEST_CASE("tree: past the cap nodes are served unremembered and find() still resolves their inodes") {
    FakeCpuDir host;
    Tree tree(host.fd.get(), 2);
    NodeRef cpu0 = lookup_path(tree, {"cpu0"});
    NodeRef online = lookup_path(tree, {"online"});
    REQUIRE(cpu0);
    REQUIRE(online);
    CHECK(tree.remembered() == 2);
    NodeRef core_id = lookup_path(tree, {"cpu1", "topology", "core_id"});
    REQUIRE(core_id);
    CHECK(tree.remembered() == 2);  // the cap holds
    CHECK(core_id->ino == cpu_path_ino("cpu1/topology/core_id"));
    NodeRef again = tree.find(core_id->ino);  // the kernel asks by inode number later
    REQUIRE(again);
    CHECK(again->cpu_path == "cpu1/topology/core_id");
    CHECK(again->parent == cpu_path_ino("cpu1/topology"));
    CHECK(tree.remembered() == 2);
    // An inode number that names nothing is still unknown.
    CHECK_FALSE(tree.find(cpu_path_ino("cpu7/nothing")));
}

TEST_CASE("tree: an inode number from a previous instance is found by walking the host's tree") {
    FakeCpuDir host;
    Tree tree(host.fd.get());
    NodeRef found = tree.find(cpu_path_ino("cpu1/topology/core_id"));
    REQUIRE(found);
    CHECK(found->cpu_path == "cpu1/topology/core_id");
    CHECK(found->name == "core_id");
    // The walk remembered the host's tree: 2 cpus x (cpuN, topology, core_id) + online.
    CHECK(tree.remembered() == 7);
    CHECK_FALSE(tree.find(cpu_path_ino("cpu1/topology/nothing")));
}

TEST_CASE("tree: proc/ files keep their inode numbers; vmstat is a new number, not a reused one") {
    // --takeover keeps the kernel's inodes across versions: a number once
    // handed out must always name the same file.
    FakeCpuDir host;
    Tree tree(host.fd.get());
    NodeRef proc = tree.find(2);
    REQUIRE(proc);
    const std::vector<std::pair<const char*, fuse_ino_t>> expected{
        {"meminfo", 10}, {"cpuinfo", 11}, {"stat", 12}, {"uptime", 13},
        {"loadavg", 14}, {"diskstats", 15}, {"swaps", 16}, {"vmstat", 17}};
    for (const auto& [name, ino] : expected) {
        CAPTURE(name);
        NodeRef n = tree.child(*proc, name);
        REQUIRE(n);
        CHECK(n->ino == ino);
        CHECK(n->kind == NodeKind::proc_file);
        CHECK(proc_file_name(n->file) == name);
    }
}
