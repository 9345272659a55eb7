#include "ctl/docker.hpp"

#include <nlohmann/json.hpp>

#include "ctl_test_util.hpp"

using namespace procview::ctl;
using namespace procview::ctl::test;
using Json = nlohmann::ordered_json;

namespace {

const std::string kPath = "/etc/docker/daemon.json";

const std::string kUser = R"({
    "log-level": "warn",
    "storage-driver": "vfs",
    "runtimes": {
        "crun": {"path": "/usr/bin/crun"}
    },
    "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}}
}
)";

Json json_of(const std::optional<std::string>& text) {
    REQUIRE(text.has_value());
    return Json::parse(*text);
}

const Json kOurs = Json{{"path", "/usr/bin/procview-runtime"}, {"runtimeArgs", Json::array({"--procview-enable"})}};

}  // namespace

TEST_CASE("docker configure: no daemon.json gives one with the runtime") {
    auto w = edit(configure_docker, {{kPath, std::nullopt}});
    CHECK(json_of(w.texts[0]) == Json{{"runtimes", {{"procview", kOurs}}}});
    CHECK(*w.texts[0] == "{\n  \"runtimes\": {\n    \"procview\": {\n      \"path\": \"/usr/bin/procview-runtime\",\n"
                         "      \"runtimeArgs\": [\n        \"--procview-enable\"\n      ]\n    }\n  }\n}\n");
}

TEST_CASE("docker configure: every other key stays, in its order, with the file's indentation") {
    auto w = edit(configure_docker, {{kPath, kUser}});
    Json got = json_of(w.texts[0]);
    Json expected = Json::parse(kUser);
    expected["runtimes"]["procview"] = kOurs;
    CHECK(got == expected);  // ordered_json: key order compared too
    CHECK(w.texts[0]->find("\n    \"log-level\": \"warn\",\n") != std::string::npos);
    CHECK_FALSE(got.contains("default-runtime"));
}

TEST_CASE("docker configure --set-as-default, and without it procview stops being the default") {
    Settings s;
    s.set_as_default = true;
    auto files = std::vector<FileState>{{kPath, kUser}};
    auto with = edit(configure_docker, files, s);
    CHECK(json_of(with.texts[0])["default-runtime"] == "procview");
    auto without = edit(configure_docker, after(files, with));
    CHECK_FALSE(json_of(without.texts[0]).contains("default-runtime"));
    // Someone else's default is not ours to take away.
    auto other = edit(configure_docker, {{kPath, std::string(R"({"default-runtime": "crun"})")}});
    CHECK(json_of(other.texts[0])["default-runtime"] == "crun");
}

TEST_CASE("docker configure twice leaves the file byte for byte") {
    auto files = std::vector<FileState>{{kPath, kUser}};
    auto first = edit(configure_docker, files);
    auto second = edit(configure_docker, after(files, first));
    CHECK(second.texts == first.texts);
    // A file that already says it all, in the user's own layout, is not reformatted.
    std::string compact = R"({"runtimes":{"procview":{"path":"/usr/bin/procview-runtime","runtimeArgs":["--procview-enable"]}}})";
    CHECK(edit(configure_docker, {{kPath, compact}}).texts[0] == compact);
}

TEST_CASE("docker remove takes away exactly what configure added") {
    Settings s;
    s.set_as_default = true;
    auto files = std::vector<FileState>{{kPath, kUser}};
    auto configured = edit(configure_docker, files, s);
    auto removed = edit(remove_docker, after(files, configured));
    CHECK(json_of(removed.texts[0]) == Json::parse(kUser));
    auto again = edit(remove_docker, after(files, removed));
    CHECK(again.texts == removed.texts);
    // An empty "runtimes" left by us goes too.
    auto only = edit(remove_docker, {{kPath, std::string(R"({"runtimes": {"procview": {"path": "/x", "runtimeArgs": ["--procview-enable"]}}, "default-runtime": "procview"})")}});
    CHECK(json_of(only.texts[0]) == Json::object());
    CHECK_FALSE(edit(remove_docker, {{kPath, std::nullopt}}).texts[0].has_value());
}

TEST_CASE("docker remove leaves a runtimes.procview it did not write, and says so") {
    std::string text = R"({"runtimes": {"procview": {"path": "/opt/mine", "runtimeArgs": ["--debug"]}}, "default-runtime": "procview"})";
    auto w = edit(remove_docker, {{kPath, text}});
    CHECK(w.texts[0] == text);
    REQUIRE(w.notes.size() == 1);
    CHECK(w.notes[0].find("not written by procview-ctl") != std::string::npos);
}

TEST_CASE("docker: a daemon.json that does not parse, or is not an object, is an error naming it") {
    auto r = configure_docker({{{kPath, std::string("{\"log-level\": \"warn\",\n}")}}}, {});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.starts_with(kPath + ": [json.exception.parse_error"));
    auto arr = configure_docker({{{kPath, std::string("[1]")}}}, {});
    REQUIRE_FALSE(arr);
    CHECK(arr.error().message == kPath + ": not a JSON object");
    auto runtimes = configure_docker({{{kPath, std::string(R"({"runtimes": []})")}}}, {});
    REQUIRE_FALSE(runtimes);
    CHECK(runtimes.error().message == kPath + ": \"runtimes\" is not an object");
    CHECK_FALSE(remove_docker({{{kPath, std::string("nope")}}}, {}));
}
