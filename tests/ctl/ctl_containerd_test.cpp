#include "ctl/containerd.hpp"

#include "ctl_test_util.hpp"

using namespace procview::ctl;
using namespace procview::ctl::test;

namespace {

const std::string kMain = "/etc/containerd/config.toml";
const std::string kDropIn = "/etc/containerd/conf.d/procview.toml";

// A node's config.toml with settings of its own and comments.
const std::string kUserConfig = R"(# node config, managed by hand
version = 2
root = "/srv/containerd"   # big disk

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "example/pause:3.9"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    SystemdCgroup = true
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
    endpoint = ["https://mirror.example"]

[debug]
  level = "debug"
)";

std::vector<FileState> files_with(std::optional<std::string> main) {
    return {{kMain, std::move(main)}, {kDropIn, std::nullopt}};
}

const toml::table& runtime_of(const toml::table& drop_in) {
    const toml::node* cri = drop_in["plugins"].as_table()->get(kCriPlugin);
    REQUIRE(cri);
    const toml::table* rt = (*cri->as_table())["containerd"]["runtimes"]["procview"].as_table();
    REQUIRE(rt);
    return *rt;
}

}  // namespace

TEST_CASE("containerd configure: no config.toml gives version 2, the import and the drop-in") {
    auto w = edit(configure_containerd, files_with(std::nullopt));
    CHECK(w.texts[0] == "version = 2\nimports = [ \"/etc/containerd/conf.d/procview.toml\" ]\n");
    toml::table drop_in = parsed(w.texts[1]);
    CHECK(drop_in["version"].value<int64_t>() == 2);
    const toml::table& rt = runtime_of(drop_in);
    CHECK(rt["runtime_type"].value<std::string>() == "io.containerd.runc.v2");
    CHECK(rt["options"]["BinaryName"].value<std::string>() == "/usr/bin/procview-runtime");
    CHECK(*rt["pod_annotations"].as_array() == toml::array{"procview.io/*"});
    CHECK(*rt["container_annotations"].as_array() == toml::array{"procview.io/*"});
    CHECK_FALSE(rt["options"]["SystemdCgroup"]);
    CHECK_FALSE(drop_in.at_path("plugins").as_table()->get(kCriPlugin)->as_table()->at_path(
        "containerd.default_runtime_name"));
}

TEST_CASE("containerd configure: the user's config.toml keeps every setting and comment") {
    auto w = edit(configure_containerd, files_with(kUserConfig));
    // Only one line more: the import, before the first setting.
    CHECK(*w.texts[0] == "# node config, managed by hand\n"
                         "imports = [ \"/etc/containerd/conf.d/procview.toml\" ]\n" +
                             kUserConfig.substr(kUserConfig.find('\n') + 1));
    toml::table expected = parsed(kUserConfig);
    expected.insert("imports", toml::array{kDropIn});
    CHECK(parsed(w.texts[0]) == expected);
    CHECK(w.notes.empty());
}

TEST_CASE("containerd configure: the drop-in repeats the CRI section and keeps the cgroup driver") {
    Settings s;
    s.runtime_path = "/opt/procview/bin/procview-runtime";
    auto w = edit(configure_containerd, files_with(kUserConfig), s);
    toml::table drop_in = parsed(w.texts[1]);
    toml::table cri = *drop_in["plugins"].as_table()->get(kCriPlugin)->as_table();
    // Everything the user had in the section is there, unchanged.
    toml::table user_cri = *parsed(kUserConfig)["plugins"].as_table()->get(kCriPlugin)->as_table();
    (*cri["containerd"]["runtimes"].as_table()).erase("procview");
    CHECK(cri == user_cri);
    const toml::table& rt = runtime_of(drop_in);
    CHECK(rt["options"]["BinaryName"].value<std::string>() == "/opt/procview/bin/procview-runtime");
    CHECK(rt["options"]["SystemdCgroup"].value<bool>() == true);
}

TEST_CASE("containerd configure --set-as-default sets default_runtime_name in the drop-in only") {
    Settings s;
    s.set_as_default = true;
    auto w = edit(configure_containerd, files_with(kUserConfig), s);
    toml::table drop_in = parsed(w.texts[1]);
    const toml::table* cri = drop_in["plugins"].as_table()->get(kCriPlugin)->as_table();
    CHECK((*cri)["containerd"]["default_runtime_name"].value<std::string>() == "procview");
    CHECK_FALSE(parsed(w.texts[0]).at_path("plugins").as_table()->get(kCriPlugin)->as_table()->get("containerd")
                    ->as_table()->contains("default_runtime_name"));
}

TEST_CASE("containerd configure twice gives the same files") {
    for (bool dflt : {false, true}) {
        Settings s;
        s.set_as_default = dflt;
        auto files = files_with(kUserConfig);
        auto first = edit(configure_containerd, files, s);
        auto second = edit(configure_containerd, after(files, first), s);
        CHECK(second.texts == first.texts);
    }
}

TEST_CASE("containerd configure: an import glob that covers the drop-in is enough") {
    std::string text = "version = 2\nimports = [\"/etc/containerd/conf.d/*.toml\"]\n";
    auto w = edit(configure_containerd, files_with(text));
    CHECK(w.texts[0] == text);
    std::string relative = "version = 2\nimports = [\"conf.d/*.toml\"]\n";
    CHECK(edit(configure_containerd, files_with(relative)).texts[0] == relative);
}

TEST_CASE("containerd configure then remove gives back config.toml byte for byte") {
    auto files = files_with(kUserConfig);
    auto configured = edit(configure_containerd, files);
    auto removed = edit(remove_containerd, after(files, configured));
    CHECK(removed.texts[0] == kUserConfig);
    CHECK_FALSE(removed.texts[1].has_value());
    // remove again: nothing left to do
    auto again = edit(remove_containerd, after(files, removed));
    CHECK(again.texts == removed.texts);
}

TEST_CASE("containerd: existing imports gain and lose only the drop-in, the rest of the text stays") {
    std::string original = "version = 2\nimports = [\"/etc/other.toml\",\n  \"/x/*.conf\"]  # mine\n[debug]\n";
    auto files = files_with(original);
    auto configured = edit(configure_containerd, files);
    CHECK(*configured.texts[0] ==
          "version = 2\nimports = [ \"/etc/other.toml\", \"/x/*.conf\", \"" + kDropIn + "\" ]  # mine\n[debug]\n");
    auto removed = edit(remove_containerd, after(files, configured));
    CHECK(*removed.texts[0] == "version = 2\nimports = [ \"/etc/other.toml\", \"/x/*.conf\" ]  # mine\n[debug]\n");
    CHECK(parsed(removed.texts[0]) == parsed(original));
}

TEST_CASE("containerd configure: other imports get a warning about plugin sections, ours alone none") {
    auto other = edit(configure_containerd, files_with("version = 2\nimports = [\"/etc/containerd/mirrors.toml\"]\n"));
    REQUIRE(other.notes.size() == 1);
    CHECK(other.notes[0].find("keeps only the last one read") != std::string::npos);
    auto files = files_with(kUserConfig);
    auto first = edit(configure_containerd, files);
    CHECK(first.notes.empty());
    CHECK(edit(configure_containerd, after(files, first)).notes.empty());
}

TEST_CASE("containerd remove keeps imports that are not the drop-in") {
    std::string text = "version = 2\nimports = [\"/etc/containerd/conf.d/*.toml\", \"/etc/x.toml\"]\n";
    auto w = edit(remove_containerd, {{kMain, text}, {kDropIn, "version = 2\n"}});
    CHECK(w.texts[0] == text);
    CHECK_FALSE(w.texts[1].has_value());
    std::string empty = "version = 2\nimports = []\n";
    CHECK(edit(remove_containerd, {{kMain, empty}, {kDropIn, std::nullopt}}).texts[0] == empty);
}

TEST_CASE("containerd: a config.toml that does not parse is an error naming it") {
    auto r = configure_containerd(files_with("version = 2\n[plugins\nx = 1\n"), {});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.starts_with(kMain + ": line 2"));
    CHECK_FALSE(remove_containerd(files_with("version = = 2\n"), {}));
}

TEST_CASE("containerd: config versions other than 2 are refused with the reason") {
    auto v3 = configure_containerd(files_with("version = 3\n"), {});
    REQUIRE_FALSE(v3);
    CHECK(v3.error().message.find("version 3 is not supported") != std::string::npos);
    auto v1 = configure_containerd(files_with("[plugins.cri]\n  sandbox_image = \"x\"\n"), {});
    REQUIRE_FALSE(v1);
    CHECK(v1.error().message.find("version 1") != std::string::npos);
    auto bad_imports = configure_containerd(files_with("version = 2\nimports = \"/x\"\n"), {});
    REQUIRE_FALSE(bad_imports);
    CHECK(bad_imports.error().message.find("`imports` is not a list") != std::string::npos);
}

TEST_CASE("containerd configure: a file without version and without plugins gains version = 2") {
    auto w = edit(configure_containerd, files_with("[debug]\n  level = \"info\"\n"));
    toml::table t = parsed(w.texts[0]);
    CHECK(t["version"].value<int64_t>() == 2);
    CHECK(t["debug"]["level"].value<std::string>() == "info");
    CHECK(w.texts[0]->ends_with("[debug]\n  level = \"info\"\n"));
}

TEST_CASE("containerd files: the drop-in lives in conf.d next to config.toml") {
    CHECK(containerd_files("/etc/containerd/config.toml") ==
          std::vector<std::string>{"/etc/containerd/config.toml", "/etc/containerd/conf.d/procview.toml"});
    CHECK(containerd_files("/tmp/r/etc/containerd/config.toml")[1] == "/tmp/r/etc/containerd/conf.d/procview.toml");
}
