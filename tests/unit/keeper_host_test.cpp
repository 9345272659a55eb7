// fusefs/keeper_host's pure parts (which cgroup hierarchies a keeper leaving
// its pod joins, which names it accepts) and session's check of a foreign
// mount at the mountpoint (a volume's bind mount versus someone's filesystem).
#include <doctest/doctest.h>

#include <cerrno>
#include <string>

#include "fusefs/keeper_host.hpp"
#include "fusefs/session.hpp"

using namespace procview;

TEST_CASE("keeper_host: one entry per cgroup hierarchy, its root's mount only; v1 cpuset flagged") {
    // This machine's hybrid layout, plus a second mount of the memory
    // hierarchy (a container's view of its subtree) and of its root.
    const char* mountinfo =
        "25 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
        "30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
        "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
        "32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,xattr,name=systemd\n"
        "33 30 0:29 / /sys/fs/cgroup/cpuset rw,nosuid - cgroup cgroup rw,cpuset\n"
        "34 30 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:9 - cgroup cgroup rw,memory\n"
        "35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n"
        "40 25 0:30 /docker/abc /tmp/ctr/sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "41 25 0:30 / /tmp/again rw - cgroup cgroup rw,memory\n";
    auto h = cgroup_hierarchies(mountinfo);
    REQUIRE(h.size() == 5);
    CHECK(h[0].root == "/sys/fs/cgroup/unified");
    CHECK(h[1].root == "/sys/fs/cgroup/systemd");
    CHECK(h[2].root == "/sys/fs/cgroup/cpuset");
    CHECK(h[2].cpuset);
    CHECK(h[3].root == "/sys/fs/cgroup/memory");
    CHECK_FALSE(h[3].cpuset);
    CHECK(h[4].root == "/sys/fs/cgroup/cpu,cpuacct");
    // Pure v2: the one hierarchy; its cpuset controller is not v1's.
    auto v2 = cgroup_hierarchies("30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,cpuset\n");
    REQUIRE(v2.size() == 1);
    CHECK_FALSE(v2[0].cpuset);
    CHECK(cgroup_hierarchies("garbage\n\n1 2 3\n").empty());
}

TEST_CASE("keeper_host: the cgroup name is one plain path component") {
    CHECK(valid_keeper_cgroup_name("procview-keeper"));
    CHECK(valid_keeper_cgroup_name("procview_keeper.2"));
    for (const char* bad : {"", ".", "..", "a/b", "../x", "with space", "nl\n"}) CHECK_FALSE(valid_keeper_cgroup_name(bad));
    CHECK_FALSE(valid_keeper_cgroup_name(std::string(65, 'a')));
}

TEST_CASE("mountpoint: a bind mount of an empty directory is ours to mount over; anything else is in use") {
    const std::string mp = "/var/lib/procview";
    CHECK(check_foreign_mount(mp, {"ext4", "/var/lib/procview"}, true));      // a hostPath volume
    CHECK(check_foreign_mount(mp, {"xfs", "/srv/volumes/procview"}, true));   // elsewhere, another disk fs
    CHECK(check_foreign_mount(mp, {"tmpfs", "/procview"}, true));             // a directory of a tmpfs
    auto root = check_foreign_mount(mp, {"tmpfs", "/"}, true);                // someone's tmpfs
    REQUIRE_FALSE(root);
    CHECK(root.error().errnum == EBUSY);
    CHECK(root.error().message == "/var/lib/procview is in use: a `tmpfs` filesystem is mounted there");
    auto disk = check_foreign_mount(mp, {"ext4", "/"}, true);                 // a disk's root mounted there
    REQUIRE_FALSE(disk);
    CHECK(disk.error().message == "/var/lib/procview is in use: a `ext4` filesystem is mounted there");
    auto fuse = check_foreign_mount(mp, {"fuse.lxcfs", "/proc"}, true);       // another FUSE server's directory
    REQUIRE_FALSE(fuse);
    CHECK(fuse.error().message == "/var/lib/procview is in use: a directory of a `fuse.lxcfs` filesystem is bind-mounted there");
    CHECK_FALSE(check_foreign_mount(mp, {"fuse", "/x"}, true));
    auto full = check_foreign_mount(mp, {"ext4", "/data"}, false);            // files the mount would hide
    REQUIRE_FALSE(full);
    CHECK(full.error().message == "/var/lib/procview is in use: a non-empty directory (/data of a `ext4` filesystem) is bind-mounted there");
}
