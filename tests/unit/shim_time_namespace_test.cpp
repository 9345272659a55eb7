// procview-runtime's time-namespace decisions (shim/time_namespace.hpp).
#include <doctest/doctest.h>

#include <string>

#include "shim/runc_args.hpp"
#include "shim/time_namespace.hpp"

using namespace procview;
using namespace procview::shim;

namespace {

Spec spec_of(const std::string& text) {
    auto spec = parse_spec(text);
    REQUIRE_MESSAGE(spec.ok(), spec.error().describe());
    return *spec;
}

// runc 1.1.5's state.json for a container created through procview-runtime
// (captured; "config" and the cgroup paths cut short). init_process_start is
// the init's start as runc read it inside the time namespace: 1.04 s, while
// the host read 1401704 ticks for the same process.
constexpr std::string_view kRuncState =
    R"({"id":"pvtime-cap","init_process_pid":24774,"init_process_start":104,)"
    R"("created":"2026-11-22T21:38:23.8632317Z","config":{"rootfs":"/tmp/rootfs"},"rootless":false,)"
    R"("cgroup_paths":{"memory":"/sys/fs/cgroup/memory/pvshim-timens-24154/on"},)"
    R"("namespace_paths":{"NEWPID":"/proc/24774/ns/pid"},)"
    R"("external_descriptors":["/dev/null","/dev/null","/dev/null"],"intel_rdt_path":""})";

// crun 1.8's <root>/<id>/status (the fields libcrun writes).
constexpr std::string_view kCrunStatus =
    R"({"pid":31337,"process-start-time":2211,"cgroup-path":"/sys/fs/cgroup/pv","scope":null,)"
    R"("rootfs":"/tmp/rootfs","systemd-cgroup":false,"bundle":"/tmp/b","created":"2026-11-22T21:38:23Z",)"
    R"("detached":true,"external_descriptors":"[]"})";

}  // namespace

TEST_CASE("a spec asking for a time namespace is left to the runtime") {
    CHECK_FALSE(spec_requests_time_namespace(spec_of(R"({"linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}})")));
    CHECK(spec_requests_time_namespace(spec_of(R"({"linux": {"namespaces": [{"type": "pid"}, {"type": "time"}]}})")));
    CHECK(spec_requests_time_namespace(
        spec_of(R"({"linux": {"namespaces": [{"type": "time", "path": "/proc/1/ns/time"}]}})")));
    CHECK_FALSE(spec_requests_time_namespace(spec_of(R"({})")));
    CHECK_FALSE(spec_requests_time_namespace(spec_of(R"({"linux": {"namespaces": "time"}})")));
    CHECK_FALSE(spec_requests_time_namespace(spec_of(R"({"linux": {"namespaces": [{"type": 7}, "time"]}})")));
}

TEST_CASE("the boottime offset starts the container's clock at the margin") {
    // Host up 13872.6 s, the shim in the initial namespace.
    auto offset = new_container_boottime_offset(13'872'600'000'000, ClockOffset{});
    CHECK(offset == ClockOffset{-13'872 + kBoottimeMarginSeconds, 0});
    // In the namespace the clock then reads host + offset: margin plus the fraction.
    double inside = 13'872.6 + offset.as_seconds();
    CHECK(inside >= static_cast<double>(kBoottimeMarginSeconds));
    CHECK(inside < static_cast<double>(kBoottimeMarginSeconds) + 1.0);
    CHECK(format_boottime_offset(offset) == "boottime -13871 0\n");
}

TEST_CASE("the boottime offset counts from the host's boot when the shim is in a time namespace itself") {
    // The shim's own clock reads 500.25 s in a namespace offset by -13372.35 s: the host is at 13872.6 s.
    auto offset = new_container_boottime_offset(500'250'000'000, ClockOffset{-13'373, 650'000'000});
    CHECK(offset == ClockOffset{-13'872 + kBoottimeMarginSeconds, 0});
    // Never a positive shift from a nonsensical reading.
    CHECK(new_container_boottime_offset(-5, ClockOffset{}) == ClockOffset{kBoottimeMarginSeconds, 0});
}

TEST_CASE("calls on an existing container join its time namespace") {
    for (auto sub : {"start", "state", "kill", "delete", "exec", "pause", "resume", "update", "ps", "events", "checkpoint"}) {
        CAPTURE(sub);
        CHECK(subcommand_joins_container(sub));
    }
    for (auto sub : {"create", "run", "restore", "features", "spec", "list", "", "--version"}) {
        CAPTURE(sub);
        CHECK_FALSE(subcommand_joins_container(sub));
    }
}

TEST_CASE("the recorded init: runc's state.json and crun's status") {
    auto runc = parse_runtime_state(kRuncState);
    REQUIRE_MESSAGE(runc, (runc ? "" : runc.error().message));
    CHECK(runc->pid == 24774);
    CHECK(runc->start_ticks == 104u);
    auto crun = parse_runtime_state(kCrunStatus);
    REQUIRE(crun);
    CHECK(crun->pid == 31337);
    CHECK(crun->start_ticks == 2211u);
    auto no_start = parse_runtime_state(R"({"init_process_pid": 12})");
    REQUIRE(no_start);
    CHECK_FALSE(no_start->start_ticks);
    for (std::string_view bad : {"", "[]", "{}", R"({"init_process_pid": 0})", R"({"init_process_pid": -4})",
                                 R"({"init_process_pid": "12"})", R"({"pid": 99999999999})", "{\"pid\": 1"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_runtime_state(bad));
    }
}

TEST_CASE("where the state is") {
    using V = std::vector<std::string>;
    CHECK(state_file_candidates(std::string("/run/containerd/runc/moby"), "abc", "/usr/sbin/runc", true, std::nullopt) ==
          V{"/run/containerd/runc/moby/abc/state.json", "/run/containerd/runc/moby/abc/status"});
    CHECK(state_file_candidates(std::nullopt, "abc", "/usr/bin/runc", true, std::nullopt) ==
          V{"/run/runc/abc/state.json", "/run/crun/abc/status"});
    CHECK(state_file_candidates(std::nullopt, "abc", "/usr/bin/crun", true, std::nullopt) ==
          V{"/run/crun/abc/status", "/run/runc/abc/state.json"});
    CHECK(state_file_candidates(std::nullopt, "abc", "runc", false, std::string("/run/user/1000")) ==
          V{"/run/user/1000/runc/abc/state.json", "/run/user/1000/crun/abc/status"});
    CHECK(state_file_candidates(std::nullopt, "abc", "runc", false, std::nullopt).empty());
    for (auto bad : {"", ".", "..", "../etc", "a/b"}) {
        CAPTURE(bad);
        CHECK(state_file_candidates(std::string("/run/runc"), bad, "runc", true, std::nullopt).empty());
    }
}

TEST_CASE("the shim reads the runtime's --root") {
    auto cmd = parse_runc_command_line({"--procview-config", "/etc/pv.json", "--root", "/run/containerd/runc/k8s.io",
                                        "--log", "/l", "exec", "--process", "/tmp/p.json", "--detach", "abc"});
    REQUIRE(cmd);
    CHECK(cmd->root == "/run/containerd/runc/k8s.io");
    CHECK(cmd->subcommand == "exec");
    CHECK(cmd->container_id == "abc");
    auto joined = parse_runc_command_line({"-root=/r", "state", "abc"});
    REQUIRE(joined);
    CHECK(joined->root == "/r");
    auto none = parse_runc_command_line({"state", "abc"});
    REQUIRE(none);
    CHECK_FALSE(none->root);
}

TEST_CASE("the record of a time namespace procview-runtime made") {
    NamespaceId ns{4, 4026532855};
    CHECK(format_time_namespace_record(ns) == "4 4026532855\n");
    CHECK(parse_time_namespace_record("4 4026532855\n") == ns);
    for (std::string_view bad : {"", "4 4026532855", "4  4026532855\n", "4 0\n", "-4 5\n", "4 5\nx", "4\n", "a b\n",
                                 " 4 5\n", "4 99999999999999999999\n"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_time_namespace_record(bad));
    }
}

TEST_CASE("the record lives in the runtime's state root, as a dot file runc and crun do not list") {
    CHECK(time_namespace_record_path(std::string("/run/containerd/runc/k8s.io"), "abc", "/usr/sbin/runc", true,
                                     std::nullopt) == "/run/containerd/runc/k8s.io/.procview-timens:abc");
    CHECK(time_namespace_record_path(std::string("/r/"), "abc", "runc", true, std::nullopt) ==
          "/r/.procview-timens:abc");
    CHECK(time_namespace_record_path(std::nullopt, "abc", "/usr/bin/runc", true, std::nullopt) ==
          "/run/runc/.procview-timens:abc");
    CHECK(time_namespace_record_path(std::nullopt, "abc", "/usr/bin/crun", true, std::nullopt) ==
          "/run/crun/.procview-timens:abc");
    CHECK(time_namespace_record_path(std::nullopt, "abc", "runc", false, std::string("/run/user/1000")) ==
          "/run/user/1000/runc/.procview-timens:abc");
    CHECK_FALSE(time_namespace_record_path(std::nullopt, "abc", "runc", false, std::nullopt));
    for (auto bad : {"", ".", "..", "../etc", "a/b"}) {
        CAPTURE(bad);
        CHECK_FALSE(time_namespace_record_path(std::string("/run/runc"), bad, "runc", true, std::nullopt));
    }
}

TEST_CASE("delete --force, as runc and crun spell it") {
    using V = std::vector<std::string>;
    CHECK(delete_is_forced(V{"--root", "/r", "delete", "--force", "abc"}, 2));
    CHECK(delete_is_forced(V{"delete", "-f", "abc"}, 0));
    CHECK(delete_is_forced(V{"delete", "abc", "--force=true"}, 0));
    CHECK(delete_is_forced(V{"delete", "-force", "abc"}, 0));
    CHECK_FALSE(delete_is_forced(V{"delete", "abc"}, 0));
    CHECK_FALSE(delete_is_forced(V{"--force", "delete", "abc"}, 1));  // before the subcommand: not delete's
    CHECK_FALSE(delete_is_forced(V{"delete", "--force=false", "abc"}, 0));
    CHECK_FALSE(delete_is_forced(V{"delete", "--", "--force"}, 0));
}

TEST_CASE("a state nested 100,000 deep is refused before it is built") {
    std::string deep = R"({"init_process_pid": 12, "x": )" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
    auto state = parse_runtime_state(deep);
    REQUIRE_FALSE(state);
    CHECK(state.error().message.find("nested deeper than 256 levels") != std::string::npos);
}
