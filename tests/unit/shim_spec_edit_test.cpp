// procview-runtime's config.json edit over real specs: `runc spec`,
// `runc spec --rootless`, `crun spec`, podman 4.3 (with and without the
// annotation; one carries a hooks.d prestart hook) and containerd 1.6 (ctr run
// with --annotation procview.io/enabled=true). See tests/fixtures/oci/README.md.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "shim/spec_edit.hpp"

using namespace procview::shim;

namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(PROCVIEW_FIXTURES) + "/oci/" + name);
    REQUIRE_MESSAGE(in.good(), "missing fixture " << name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const std::vector<std::string> kFixtures{"runc-spec.json",     "runc-spec-rootless.json", "crun-spec.json",
                                         "podman-plain.json",  "podman-annotated.json",   "containerd-ctr-run.json"};

const HookEntry kHook{"/usr/local/libexec/procview/procview-hook", "/etc/procview/procview.json"};

Spec parsed(const std::string& text) {
    auto spec = parse_spec(text);
    REQUIRE_MESSAGE(spec.ok(), spec.error().describe());
    return *spec;
}

// The spec with the hook the shim added taken out again (and the containers
// it had to create for it), so it can be compared with the original.
Spec without_our_hook(Spec spec, bool had_hooks, bool had_create_runtime) {
    auto& list = spec["hooks"]["createRuntime"];
    REQUIRE(!list.empty());
    CHECK(list.back() == make_hook(kHook));
    list.erase(list.size() - 1);
    if (!had_create_runtime) spec["hooks"].erase("createRuntime");
    if (!had_hooks) spec.erase("hooks");
    return spec;
}

}  // namespace

TEST_CASE("the hook entry") {
    CHECK(dump_spec(make_hook(kHook)) ==
          R"({"path":"/usr/local/libexec/procview/procview-hook","args":["procview-hook","--config",)"
          R"("/etc/procview/procview.json","createRuntime"],"timeout":10})");
    CHECK(dump_spec(make_hook({"/opt/pv/procview-hook", ""})) ==
          R"({"path":"/opt/pv/procview-hook","args":["procview-hook","createRuntime"],"timeout":10})");
}

TEST_CASE("opt-in on real specs") {
    CHECK(decide_opt_in(parsed(fixture("runc-spec.json")), false) == OptIn::no);
    CHECK(decide_opt_in(parsed(fixture("crun-spec.json")), false) == OptIn::no);
    CHECK(decide_opt_in(parsed(fixture("podman-plain.json")), false) == OptIn::no);
    CHECK(decide_opt_in(parsed(fixture("podman-annotated.json")), false) == OptIn::annotation);
    CHECK(decide_opt_in(parsed(fixture("containerd-ctr-run.json")), false) == OptIn::annotation);
    CHECK(decide_opt_in(parsed(fixture("runc-spec.json")), true) == OptIn::runtime);
    CHECK(decide_opt_in(parsed(fixture("containerd-ctr-run.json")), true) == OptIn::runtime);
}

TEST_CASE("annotation values") {
    auto with = [](const char* value) {
        Spec spec = parsed(fixture("runc-spec.json"));
        spec["annotations"]["procview.io/enabled"] = value;
        return spec;
    };
    CHECK(decide_opt_in(with("true"), false) == OptIn::annotation);
    CHECK(decide_opt_in(with("false"), true) == OptIn::opted_out);
    CHECK(decide_opt_in(with("false"), false) == OptIn::no);
    // Only exactly "true" opts in, as the hook reads it.
    CHECK(decide_opt_in(with("TRUE"), false) == OptIn::no);
    CHECK(decide_opt_in(with("yes"), false) == OptIn::no);
    CHECK(decide_opt_in(with("yes"), true) == OptIn::runtime);
    Spec number = parsed(fixture("runc-spec.json"));
    number["annotations"]["procview.io/enabled"] = 1;
    CHECK(decide_opt_in(number, false) == OptIn::no);
    CHECK_FALSE(is_enabled(OptIn::no));
    CHECK_FALSE(is_enabled(OptIn::opted_out));
    CHECK(is_enabled(OptIn::annotation));
    CHECK(is_enabled(OptIn::runtime));
}

TEST_CASE("adding the hook keeps every other field, in order") {
    for (const auto& name : kFixtures) {
        CAPTURE(name);
        std::string text = fixture(name);
        Spec original = parsed(text);
        bool had_hooks = original.contains("hooks");
        bool had_create_runtime = had_hooks && original["hooks"].contains("createRuntime");

        Spec edited = original;
        CHECK(add_procview_hook(edited, kHook));
        // The round trip through text changes nothing but the hook.
        Spec reread = parsed(dump_spec(edited));
        CHECK(dump_spec(without_our_hook(reread, had_hooks, had_create_runtime)) == dump_spec(original));
        // Key order at the top is the original's, "hooks" appended when new.
        std::vector<std::string> keys_before, keys_after;
        for (const auto& [k, v] : original.items()) keys_before.push_back(k);
        for (const auto& [k, v] : reread.items()) keys_after.push_back(k);
        if (!had_hooks) keys_before.push_back("hooks");
        CHECK(keys_after == keys_before);
    }
}

TEST_CASE("podman's hooks.d prestart hook stays where it was") {
    Spec spec = parsed(fixture("podman-annotated.json"));
    Spec prestart = spec["hooks"]["prestart"];
    REQUIRE(prestart.size() == 1);
    CHECK(add_procview_hook(spec, kHook));
    CHECK(spec["hooks"]["prestart"] == prestart);
    CHECK(spec["hooks"]["createRuntime"].size() == 1);
    // The annotation with non-ASCII text survives the round trip byte for byte.
    CHECK(spec_annotation(parsed(dump_spec(spec)), "com.example/notes") == "café ünïcode");
}

TEST_CASE("an existing createRuntime hook keeps its place, ours goes after it") {
    Spec spec = parsed(fixture("containerd-ctr-run.json"));
    spec["hooks"]["createRuntime"] = Spec::array({Spec{{"path", "/usr/bin/nvidia-container-runtime-hook"},
                                                       {"args", {"nvidia-container-runtime-hook", "prestart"}}}});
    CHECK(add_procview_hook(spec, kHook));
    REQUIRE(spec["hooks"]["createRuntime"].size() == 2);
    CHECK(spec["hooks"]["createRuntime"][0]["path"] == "/usr/bin/nvidia-container-runtime-hook");
    CHECK(spec["hooks"]["createRuntime"][1] == make_hook(kHook));
}

TEST_CASE("the edit is idempotent") {
    for (const auto& name : kFixtures) {
        CAPTURE(name);
        Spec once = parsed(fixture(name));
        CHECK(add_procview_hook(once, kHook));
        std::string once_text = dump_spec(once);
        Spec twice = parsed(once_text);
        CHECK_FALSE(add_procview_hook(twice, kHook));
        CHECK(dump_spec(twice) == once_text);
        CHECK(has_procview_hook(twice, kHook.path));
    }
}

TEST_CASE("procview-hook installed elsewhere, or by hooks.d in another stage, counts as ours") {
    Spec spec = parsed(fixture("runc-spec.json"));
    spec["hooks"]["prestart"] = Spec::array({Spec{{"path", "/usr/libexec/procview/procview-hook"},
                                                  {"args", {"procview-hook", "prestart"}}}});
    CHECK(has_procview_hook(spec, kHook.path));
    CHECK_FALSE(add_procview_hook(spec, kHook));
    CHECK_FALSE(spec["hooks"].contains("createRuntime"));
    // A different program is not ours.
    Spec other = parsed(fixture("podman-annotated.json"));
    CHECK_FALSE(has_procview_hook(other, kHook.path));
}

TEST_CASE("unknown fields and exact numbers survive") {
    std::string text = fixture("runc-spec.json");
    // A vendor extension before ociVersion, one inside process, and values at
    // the edges of JSON numbers.
    text.replace(text.find('{'), 1,
                 R"({"x-vendor":{"z":1,"a":[true,null,-1]},"big":18446744073709551615,"neg":-9223372036854775808,)"
                 R"("frac":0.1,"exp":1e-7,)");
    text.replace(text.find("\"process\": {"), 12, R"("process": {"x-unknown": "kept", )");
    Spec original = parsed(text);
    Spec edited = original;
    REQUIRE(add_procview_hook(edited, kHook));
    std::string out = dump_spec(edited);
    CHECK(out.starts_with(R"({"x-vendor":{"z":1,"a":[true,null,-1]},"big":18446744073709551615,)"
                          R"("neg":-9223372036854775808,"frac":0.1,"exp":1e-07,"ociVersion":)"));
    CHECK(out.find(R"("process":{"x-unknown":"kept","terminal":true)") != std::string::npos);
    CHECK(dump_spec(without_our_hook(parsed(out), false, false)) == dump_spec(original));
}

TEST_CASE("specs the shim refuses to touch") {
    auto error_of = [](std::string_view text) {
        auto r = parse_spec(text);
        REQUIRE_FALSE(r.ok());
        return r.error().message;
    };
    CHECK(error_of("this is not json").starts_with("not JSON"));
    CHECK(error_of("").starts_with("not JSON"));
    CHECK(error_of(R"({"ociVersion": "1.0.2")").starts_with("not JSON"));
    CHECK(error_of("[1,2]") == "not a JSON object");
    CHECK(error_of(R"({"hooks": []})") == "`hooks` is not an object");
    CHECK(error_of(R"({"hooks": {"createRuntime": {}}})") == "`hooks.createRuntime` is not an array");
    CHECK(error_of(R"({"mounts": {}})") == "`mounts` is not an array");
    CHECK(error_of(R"({"annotations": ["procview.io/enabled"]})") == "`annotations` is not an object");
    // Other stages are the runtime's business, not the shim's.
    CHECK(parse_spec(R"({"hooks": {"prestart": 3}})").ok());
}

TEST_CASE("mounts mode: which files") {
    const std::vector<std::string> defaults{"meminfo", "cpuinfo", "stat",  "uptime",  "loadavg",
                                            "diskstats", "swaps",  "vmstat", "pressure", "cpu"};
    auto all = select_mounts(std::nullopt, defaults, "/var/lib/procview");
    REQUIRE(all.mounts.size() == 8);
    CHECK(all.mounts[0] == BindMount{"meminfo", "/var/lib/procview/proc/meminfo", "/proc/meminfo"});
    CHECK(all.mounts[6] == BindMount{"swaps", "/var/lib/procview/proc/swaps", "/proc/swaps"});
    CHECK(all.mounts[7] == BindMount{"cpu", "/var/lib/procview/sys/devices/system/cpu", "/sys/devices/system/cpu"});
    // runc's config.json allowlist refuses both: only the hook delivers them.
    REQUIRE(all.notes.size() == 2);
    CHECK(all.notes[0].starts_with("vmstat: runc refuses"));
    CHECK(all.notes[1].starts_with("pressure:"));

    auto picked = select_mounts(std::string(" meminfo, cpuinfo ,bogus,meminfo,cpu_online"), defaults, "/mnt/pv/");
    REQUIRE(picked.mounts.size() == 3);
    CHECK(picked.mounts[0] == BindMount{"meminfo", "/mnt/pv/proc/meminfo", "/proc/meminfo"});
    CHECK(picked.mounts[1].view == "cpuinfo");
    CHECK(picked.mounts[2] ==
          BindMount{"cpu_online", "/mnt/pv/sys/devices/system/cpu/online", "/sys/devices/system/cpu/online"});
    REQUIRE(picked.notes.size() == 1);
    CHECK(picked.notes[0] == "bogus: not a procview file name");

    // cpu_online is inside the cpu directory: one mount, not two on top of each other.
    auto both = select_mounts(std::string("cpu_online,cpu"), defaults, "/pv");
    REQUIRE(both.mounts.size() == 1);
    CHECK(both.mounts[0].view == "cpu");
    // An empty annotation mounts nothing.
    CHECK(select_mounts(std::string(""), defaults, "/pv").mounts.empty());
}

TEST_CASE("mounts mode, per-container: proc/ files from containers/self, sys/ CPU entries shared") {
    const std::vector<std::string> defaults{"meminfo", "cpuinfo", "stat",  "uptime",  "loadavg",
                                            "diskstats", "swaps",  "vmstat", "pressure", "cpu"};
    CHECK(self_container_dir("/var/lib/procview/") == "/var/lib/procview/containers/self");
    auto own = select_mounts(std::nullopt, defaults, "/var/lib/procview", self_container_dir("/var/lib/procview"));
    REQUIRE(own.mounts.size() == 8);
    CHECK(own.mounts[0] == BindMount{"meminfo", "/var/lib/procview/containers/self/proc/meminfo", "/proc/meminfo"});
    CHECK(own.mounts[3] == BindMount{"uptime", "/var/lib/procview/containers/self/proc/uptime", "/proc/uptime"});
    CHECK(own.mounts[6] == BindMount{"swaps", "/var/lib/procview/containers/self/proc/swaps", "/proc/swaps"});
    // A per-container directory holds only proc/: the CPU directory stays the mountpoint's.
    CHECK(own.mounts[7] == BindMount{"cpu", "/var/lib/procview/sys/devices/system/cpu", "/sys/devices/system/cpu"});
    CHECK(own.notes.size() == 2);

    // From a `procviewfs --containers-only` mount: proc/ from there, sys/ from the main mount.
    auto other = select_mounts(std::string("meminfo,cpu_online"), {}, "/pv", self_container_dir("/run/pvc"));
    REQUIRE(other.mounts.size() == 2);
    CHECK(other.mounts[0] == BindMount{"meminfo", "/run/pvc/containers/self/proc/meminfo", "/proc/meminfo"});
    CHECK(other.mounts[1].source == "/pv/sys/devices/system/cpu/online");

    Spec spec = parsed(fixture("runc-spec.json"));
    auto added = add_procview_mounts(spec, own.mounts);
    REQUIRE(added.size() == 8);
    CHECK(dump_spec(spec["mounts"][spec["mounts"].size() - 8]) ==
          R"({"destination":"/proc/meminfo","type":"bind","source":"/var/lib/procview/containers/self/proc/meminfo",)"
          R"("options":["rbind","ro","nosuid","nodev","noexec"]})");
}

TEST_CASE("mounts mode, per-container: a user namespace in the spec is recognised") {
    // runc and crun open mount sources of a user-namespaced container from a
    // process that is not its init: the shim then binds the shared files.
    CHECK(!spec_has_user_namespace(parsed(fixture("runc-spec.json"))));
    CHECK(!spec_has_user_namespace(parsed(R"({"linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}})")));
    CHECK(spec_has_user_namespace(parsed(R"({"linux": {"namespaces": [{"type": "pid"}, {"type": "user"}]}})")));
    CHECK(spec_has_user_namespace(
        parsed(R"({"linux": {"namespaces": [{"type": "user", "path": "/proc/42/ns/user"}]}})")));
    CHECK(!spec_has_user_namespace(parsed(R"({"linux": {"namespaces": {"type": "user"}}})")));
    CHECK(!spec_has_user_namespace(parsed(R"({"linux": 3})")));
}

TEST_CASE("mounts mode: procview.io/files separated by blanks, as the hook reads it") {
    // docs/hook.md tells podman users to write "meminfo stat" (podman splits
    // --annotation values at commas): the shim gave 0 mounts, the hook 2.
    auto blanks = select_mounts(std::string("meminfo stat"), {}, "/pv");
    REQUIRE(blanks.mounts.size() == 2);
    CHECK(blanks.mounts[0] == BindMount{"meminfo", "/pv/proc/meminfo", "/proc/meminfo"});
    CHECK(blanks.mounts[1] == BindMount{"stat", "/pv/proc/stat", "/proc/stat"});
    CHECK(blanks.notes.empty());
    auto mixed = select_mounts(std::string("uptime\tloadavg, cpu"), {}, "/pv");
    REQUIRE(mixed.mounts.size() == 3);
    CHECK(mixed.mounts[2].view == "cpu");
}

TEST_CASE("mounts mode: appended after the runtime's own mounts, idempotent, user mounts win") {
    Spec spec = parsed(fixture("containerd-ctr-run.json"));
    Spec original = spec;
    auto selection = select_mounts(std::string("meminfo,uptime,cpu"), {}, "/var/lib/procview");
    auto added = add_procview_mounts(spec, selection.mounts);
    CHECK(added == std::vector<std::string>{"meminfo", "uptime", "cpu"});
    const auto& mounts = spec["mounts"];
    REQUIRE(mounts.size() == original["mounts"].size() + 3);
    for (std::size_t i = 0; i < original["mounts"].size(); ++i) CHECK(mounts[i] == original["mounts"][i]);
    CHECK(dump_spec(mounts[original["mounts"].size()]) ==
          R"({"destination":"/proc/meminfo","type":"bind","source":"/var/lib/procview/proc/meminfo",)"
          R"("options":["rbind","ro","nosuid","nodev","noexec"]})");

    // Twice: nothing more.
    std::string once = dump_spec(spec);
    CHECK(add_procview_mounts(spec, selection.mounts).empty());
    CHECK(dump_spec(spec) == once);

    // The user's own /proc/uptime mount (e.g. lxcfs through -v) is left alone.
    Spec user = parsed(fixture("runc-spec.json"));
    user["mounts"].push_back(Spec{{"destination", "/proc/uptime/"},
                                  {"type", "bind"},
                                  {"source", "/var/lib/lxcfs/proc/uptime"},
                                  {"options", {"bind"}}});
    CHECK(add_procview_mounts(user, selection.mounts) == std::vector<std::string>{"meminfo", "cpu"});

    // Nothing chosen: the spec is not touched at all.
    Spec untouched = parsed(R"({"ociVersion":"1.0.2"})");
    CHECK(add_procview_mounts(untouched, {}).empty());
    CHECK(dump_spec(untouched) == R"({"ociVersion":"1.0.2"})");
}

TEST_CASE("marking a container opted in for the hook") {
    // No annotations at all (runc spec): the object is added at the end.
    Spec spec = parsed(fixture("runc-spec.json"));
    CHECK(mark_opted_in(spec));
    std::string last_key;
    for (const auto& [k, v] : spec.items()) last_key = k;
    CHECK(last_key == "annotations");
    CHECK(spec_annotation(spec, "procview.io/enabled") == "true");
    CHECK_FALSE(mark_opted_in(spec));

    // Podman's annotations keep theirs; an odd value becomes "true".
    Spec podman = parsed(fixture("podman-plain.json"));
    auto before = podman["annotations"].size();
    podman["annotations"]["procview.io/enabled"] = "yes";
    CHECK(mark_opted_in(podman));
    CHECK(podman["annotations"].size() == before + 1);
    CHECK(spec_annotation(podman, "procview.io/enabled") == "true");
    CHECK(spec_annotation(podman, "io.container.manager") == "libpod");
}

TEST_CASE("nesting is bounded: 256 levels parse and dump, 257 and 100,000 are refused before any tree is built") {
    auto nested = [](std::size_t depth) {
        return R"({"annotations": {"procview.io/enabled": "true"}, "x": )" + std::string(depth - 1, '[') +
               std::string(depth - 1, ']') + "}";
    };
    auto ok = parse_spec(nested(256));
    REQUIRE(ok);
    CHECK(dump_spec(*ok) == R"({"annotations":{"procview.io/enabled":"true"},"x":)" + std::string(255, '[') +
                                std::string(255, ']') + "}");
    for (std::size_t depth : {257u, 100'000u}) {
        CAPTURE(depth);
        auto deep = parse_spec(nested(depth));
        REQUIRE_FALSE(deep);
        CHECK(deep.error().message == "JSON nested deeper than 256 levels");
    }
}
