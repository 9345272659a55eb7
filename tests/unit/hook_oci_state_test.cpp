// OCI state and config.json parsing for procview-hook. The states are real
// ones, captured from runc 1.1.5 and crun 1.8.1 on this project's test host.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "hook/oci_state.hpp"

using namespace procview::hook;

namespace {

constexpr std::string_view kRuncState =
    R"({"ociVersion":"1.0.2-dev","id":"pvhook-cap1","status":"creating","pid":9537,"bundle":"/tmp/pvhook-cap-xEtxJP/bundle","annotations":{"procview.io/enabled":"true","procview.io/files":"meminfo, cpuinfo"}})";
constexpr std::string_view kCrunState =
    R"({"ociVersion":"1.0","id":"pvhook-cap2","pid":10482,"root":"rootfs","bundle":"/tmp/pvhook-cap-8pfq1d/bundle","status":"created","annotations":{"procview.io/enabled":"true","procview.io/files":"meminfo, cpuinfo"}})";

std::string error_of(std::string_view state) {
    auto r = parse_oci_state(state);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
}

}  // namespace

TEST_CASE("runc's createRuntime state") {
    auto s = parse_oci_state(kRuncState);
    REQUIRE(s.ok());
    CHECK(s->oci_version == "1.0.2-dev");
    CHECK(s->id == "pvhook-cap1");
    CHECK(s->status == "creating");
    CHECK(s->pid == 9537);
    CHECK(s->bundle == "/tmp/pvhook-cap-xEtxJP/bundle");
    CHECK_FALSE(s->root.has_value());
    CHECK(s->annotations.size() == 2);
    CHECK(s->annotations.at("procview.io/files") == "meminfo, cpuinfo");
}

TEST_CASE("crun's state: status created and an extra root") {
    auto s = parse_oci_state(kCrunState);
    REQUIRE(s.ok());
    CHECK(s->status == "created");
    CHECK(s->pid == 10482);
    REQUIRE(s->root.has_value());
    CHECK(*s->root == "rootfs");
    CHECK(s->annotations.at("procview.io/enabled") == "true");
}

TEST_CASE("a state without annotations has none") {
    auto s = parse_oci_state(R"({"id":"a","status":"creating","pid":1,"bundle":"/b"})");
    REQUIRE(s.ok());
    CHECK(s->annotations.empty());
}

TEST_CASE("malformed states each name their problem") {
    struct Row {
        std::string_view input;
        std::string_view message;
    };
    const Row rows[] = {
        {"", "OCI state on stdin is empty"},
        {"  \n", "OCI state on stdin is empty"},
        {"{", "OCI state on stdin is not JSON"},
        {"not json", "OCI state on stdin is not JSON"},
        {"[1,2]", "OCI state on stdin is not a JSON object"},
        {R"({"status":"creating","pid":1,"bundle":"/b"})", "missing `id`"},
        {R"({"id":7,"status":"creating","pid":1,"bundle":"/b"})", "`id` is not a string"},
        {R"({"id":"","status":"creating","pid":1,"bundle":"/b"})", "`id` is empty"},
        {R"({"id":"a\nb","status":"creating","pid":1,"bundle":"/b"})", "`id` holds control characters"},
        {R"({"id":"a","status":"creating","bundle":"/b"})", "missing `pid`"},
        {R"({"id":"a","status":"creating","pid":"12","bundle":"/b"})", "`pid` is not an integer"},
        {R"({"id":"a","status":"creating","pid":0,"bundle":"/b"})", "`pid` 0 is not a process id"},
        {R"({"id":"a","status":"creating","pid":-5,"bundle":"/b"})", "`pid` -5 is not a process id"},
        {R"({"id":"a","status":"creating","pid":99999999999,"bundle":"/b"})", "is not a process id"},
        {R"({"id":"a","status":"creating","pid":1.5,"bundle":"/b"})", "`pid` is not an integer"},
        {R"({"id":"a","status":"creating","pid":1})", "missing `bundle`"},
        {R"({"id":"a","status":"creating","pid":1,"bundle":"rel/b"})", "`bundle` `rel/b` is not an absolute path"},
        {R"({"id":"a","pid":1,"bundle":"/b"})", "missing `status`"},
        {R"({"id":"a","status":"running","pid":1,"bundle":"/b"})", "status `running`"},
        {R"({"id":"a","status":"stopped","pid":1,"bundle":"/b"})", "runs at createRuntime or prestart"},
        {R"({"id":"a","status":"creating","pid":1,"bundle":"/b","annotations":[]})", "`annotations` is not an object"},
        {R"({"id":"a","status":"creating","pid":1,"bundle":"/b","annotations":{"k":1}})",
         "annotation `k` is not a string"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.input);
        CHECK(error_of(row.input).find(row.message) != std::string::npos);
    }
}

TEST_CASE("normalize_absolute_path") {
    CHECK(normalize_absolute_path("/") == "/");
    CHECK(normalize_absolute_path("/a//b/./c/../d/") == "/a/b/d");
    CHECK(normalize_absolute_path("/../..") == "/");
    CHECK(normalize_absolute_path("/run/containers/x/rootfs") == "/run/containers/x/rootfs");
}

TEST_CASE("config.json: root.path resolved against the bundle") {
    auto c = parse_bundle_config(R"({"root":{"path":"rootfs","readonly":true},"annotations":{"a":"b"}})", "/srv/bundle");
    REQUIRE(c.ok());
    CHECK(c->rootfs == "/srv/bundle/rootfs");
    CHECK(c->annotations.at("a") == "b");

    auto nested = parse_bundle_config(R"({"root":{"path":"./images/../rootfs/"}})", "/srv/bundle/");
    REQUIRE(nested.ok());
    CHECK(nested->rootfs == "/srv/bundle/rootfs");

    // podman --rootfs and CRI-O write absolute paths outside the bundle.
    auto absolute = parse_bundle_config(R"({"root":{"path":"/var/lib/containers/storage/overlay/abc/merged"}})",
                                        "/run/containers/storage/overlay-containers/abc/userdata");
    REQUIRE(absolute.ok());
    CHECK(absolute->rootfs == "/var/lib/containers/storage/overlay/abc/merged");
}

TEST_CASE("config.json errors") {
    struct Row {
        std::string_view input;
        std::string_view message;
    };
    const Row rows[] = {
        {"", "config.json is empty"},
        {"{\"root\":", "config.json is not JSON"},
        {"{}", "missing `root`"},
        {R"({"root":"rootfs"})", "`root` is not an object"},
        {R"({"root":{}})", "missing `path`"},
        {R"({"root":{"path":""}})", "`root.path` is empty"},
        {R"({"root":{"path":"../../etc"}})", "`root.path` `../../etc` escapes the bundle `/srv/b`"},
        {R"({"root":{"path":"a/../../x"}})", "escapes the bundle"},
        {R"({"root":{"path":"/"}})", "is the host's root directory"},
        {R"({"root":{"path":"rootfs"},"annotations":{"x":false}})", "annotation `x` is not a string"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.input);
        auto r = parse_bundle_config(row.input, "/srv/b");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find(row.message) != std::string::npos);
    }
    // Climbing and coming back down inside the bundle is fine.
    auto ok = parse_bundle_config(R"({"root":{"path":"a/../rootfs"}})", "/srv/b");
    REQUIRE(ok.ok());
    CHECK(ok->rootfs == "/srv/b/rootfs");
}
