#include "ctl/drop_ins.hpp"

#include "ctl_test_util.hpp"

using namespace procview::ctl;
using namespace procview::ctl::test;

TEST_CASE("crio configure: the runtime with the annotations procview reads") {
    const std::vector<FileState> files{{"/etc/crio/crio.conf.d/99-procview.conf", std::nullopt}};
    toml::table t = parsed(edit(configure_crio, files).texts[0]);
    const toml::table* rt = t["crio"]["runtime"]["runtimes"]["procview"].as_table();
    REQUIRE(rt);
    CHECK((*rt)["runtime_path"].value<std::string>() == "/usr/bin/procview-runtime");
    CHECK((*rt)["runtime_type"].value<std::string>() == "oci");
    CHECK(*(*rt)["allowed_annotations"].as_array() == toml::array{"procview.io/enabled", "procview.io/files"});
    CHECK_FALSE(t["crio"]["runtime"]["default_runtime"]);
    Settings s;
    s.set_as_default = true;
    s.runtime_path = "/opt/pv/procview-runtime";
    toml::table d = parsed(edit(configure_crio, files, s).texts[0]);
    CHECK(d["crio"]["runtime"]["default_runtime"].value<std::string>() == "procview");
    CHECK(d["crio"]["runtime"]["runtimes"]["procview"]["runtime_path"].value<std::string>() == "/opt/pv/procview-runtime");
}

TEST_CASE("podman configure: [engine.runtimes] procview = [path]") {
    const std::vector<FileState> files{{"/etc/containers/containers.conf.d/99-procview.conf", std::nullopt}};
    auto w = edit(configure_podman, files);
    CHECK(w.texts[0]->find("[engine.runtimes]\nprocview = [ \"/usr/bin/procview-runtime\" ]\n") != std::string::npos);
    toml::table t = parsed(w.texts[0]);
    CHECK(*t["engine"]["runtimes"]["procview"].as_array() == toml::array{"/usr/bin/procview-runtime"});
    CHECK_FALSE(t["engine"]["runtime"]);
    Settings s;
    s.set_as_default = true;
    CHECK(parsed(edit(configure_podman, files, s).texts[0])["engine"]["runtime"].value<std::string>() == "procview");
}

TEST_CASE("crio and podman: configure twice is the same file, whatever was there; remove deletes it") {
    for (Editor configure : {configure_crio, configure_podman}) {
        const std::vector<FileState> files{{"/etc/x.d/99-procview.conf", std::string("garbage [[")}};
        auto first = edit(configure, files);  // ours, so rewritten whole, never parsed
        auto second = edit(configure, after(files, first));
        CHECK(second.texts == first.texts);
        auto removed = edit(remove_drop_in, after(files, first));
        CHECK_FALSE(removed.texts[0].has_value());
    }
}
