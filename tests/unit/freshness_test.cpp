#include <doctest/doctest.h>

#include "core/freshness.hpp"

using namespace procview;

TEST_CASE("container names: <pid>-<start ticks>, round trip, garbage refused") {
    ContainerName n{4242, 123456789};
    CHECK(format_container_name(n) == "4242-123456789");
    CHECK(parse_container_name("4242-123456789") == n);
    for (auto bad : {"", "-", "4242", "4242-", "-5", "04242-5", "4242-05", "0-5", "4242-5x", "4194304-5", "a-b",
                     "4242-99999999999999999999999"})
        CHECK_MESSAGE(!parse_container_name(bad), bad);
    CHECK(parse_pid_alias("pid-17") == 17);
    CHECK(!parse_pid_alias("pid-"));
    CHECK(!parse_pid_alias("pid-017"));
    CHECK(!parse_pid_alias("17"));
}

TEST_CASE("container inode numbers: self-describing, disjoint from the shared tree's") {
    ContainerName n{4194303, (uint64_t{1} << 40) + 77};  // the largest pid, a start past 33 bits
    uint64_t dir = container_ino(n, 0);
    uint64_t meminfo = container_ino(n, static_cast<uint8_t>(NodeIndex::first_file));
    CHECK(is_container_ino(dir));
    CHECK(!is_container_ino(1ULL << 62));  // tree.hpp's sys_cpu numbers
    CHECK(!is_container_ino(22));
    CHECK(pid_of_ino(meminfo) == 4194303);
    CHECK(index_of_ino(meminfo) == 0x10);
    CHECK(container_key(meminfo) == dir);
    CHECK(start_matches(meminfo, n.start_ticks));
    CHECK(!start_matches(meminfo, n.start_ticks + 1));
    CHECK(start_matches(meminfo, 77));  // only the low 33 bits are kept
    // Another pid, same start: another number.
    CHECK(container_ino({4194302, n.start_ticks}, 0) != dir);
    CHECK(pid_of_ino(alias_ino(17)) == 17);
    CHECK(index_of_ino(alias_ino(17)) == 0xff);
    CHECK(is_container_ino(alias_ino(17)));
    // self: an alias of pid 0, which no process and no pid-<pid> name has.
    CHECK(is_container_ino(kSelfAliasIno));
    CHECK(index_of_ino(kSelfAliasIno) == 0xff);
    CHECK(pid_of_ino(kSelfAliasIno) == 0);
    CHECK(!parse_pid_alias("pid-0"));
    CHECK(!parse_container_name(kSelfAlias));
}

TEST_CASE("freshness window: attribute timeouts end with the window; window 0 serves nothing kept") {
    CHECK(attr_timeout_s(0, 100) == doctest::Approx(0.1));
    CHECK(attr_timeout_s(40, 100) == doctest::Approx(0.06));
    CHECK(attr_timeout_s(150, 100) == 0.0);
    CHECK(attr_timeout_s(0, 0) == 0.0);
    CHECK(servable(0, 100));
    CHECK(servable(99, 100));
    CHECK(!servable(100, 100));
    CHECK(!servable(-1, 100));
    CHECK(!servable(0, 0));
}
