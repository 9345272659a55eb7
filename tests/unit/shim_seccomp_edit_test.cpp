// The sysinfo notify rule merged into real specs (tests/fixtures/oci): podman's
// default profile (Docker's shape: default SCMP_ACT_ERRNO, sysinfo in the big
// allow rule), and specs with no profile at all (runc spec, crun spec, ctr run).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "shim/seccomp_edit.hpp"

using namespace procview::shim;

namespace {

Spec load(const std::string& name) {
    std::ifstream in(std::string(PROCVIEW_FIXTURES) + "/oci/" + name);
    REQUIRE_MESSAGE(in.good(), "missing fixture " << name);
    std::stringstream s;
    s << in.rdbuf();
    auto spec = parse_spec(s.str());
    REQUIRE(spec);
    return *spec;
}

const SysinfoNotify kNotify{"/run/procview/seccomp.sock", "procview:web"};

// Rules naming sysinfo, with their action.
std::vector<std::string> sysinfo_actions(const Spec& profile) {
    std::vector<std::string> out;
    for (const auto& rule : profile["syscalls"])
        for (const auto& name : rule["names"])
            if (name == "sysinfo") out.push_back(rule["action"].get<std::string>());
    return out;
}

}  // namespace

TEST_CASE("sysinfo notify merged into podman's default profile keeps every other rule and the default action") {
    Spec spec = load("podman-plain.json");
    const Spec before = spec["linux"]["seccomp"];
    REQUIRE(sysinfo_actions(before) == std::vector<std::string>{"SCMP_ACT_ALLOW"});
    auto r = add_sysinfo_notify(spec, kNotify);
    REQUIRE(r);
    CHECK(*r == SysinfoEdit::added);
    const Spec& after = spec["linux"]["seccomp"];
    CHECK(after["defaultAction"] == before["defaultAction"]);
    CHECK(after["defaultAction"] == "SCMP_ACT_ERRNO");
    CHECK(after["defaultErrnoRet"] == before["defaultErrnoRet"]);
    CHECK(after["architectures"] == before["architectures"]);
    CHECK(after["listenerPath"] == "/run/procview/seccomp.sock");
    CHECK(after["listenerMetadata"] == "procview:web");
    CHECK(sysinfo_actions(after) == std::vector<std::string>{"SCMP_ACT_NOTIFY"});
    // Every rule as it was, the allow rule minus sysinfo, then ours.
    REQUIRE(after["syscalls"].size() == before["syscalls"].size() + 1);
    for (std::size_t i = 0; i < before["syscalls"].size(); ++i) {
        Spec want = before["syscalls"][i];
        auto& names = want["names"];
        Spec rest = Spec::array();
        for (const auto& n : names)
            if (n != "sysinfo") rest.push_back(n);
        names = rest;
        CHECK_MESSAGE(after["syscalls"][i] == want, "rule " << i);
    }
    CHECK(after["syscalls"].back() == Spec::parse(R"({"names":["sysinfo"],"action":"SCMP_ACT_NOTIFY"})"));
    // Everything outside linux.seccomp untouched.
    Spec original = load("podman-plain.json");
    spec["linux"].erase("seccomp");
    original["linux"].erase("seccomp");
    CHECK(spec == original);
}

TEST_CASE("sysinfo notify on specs without a profile: a minimal one that allows everything else") {
    for (const char* name : {"runc-spec.json", "crun-spec.json", "containerd-ctr-run.json", "runc-spec-rootless.json"}) {
        CAPTURE(name);
        Spec spec = load(name);
        REQUIRE(add_sysinfo_notify(spec, kNotify));
        const Spec& p = spec["linux"]["seccomp"];
        CHECK(p["defaultAction"] == "SCMP_ACT_ALLOW");
        CHECK(p["architectures"] == Spec(native_seccomp_architectures()));
        CHECK(p["syscalls"] == Spec::parse(R"([{"names":["sysinfo"],"action":"SCMP_ACT_NOTIFY"}])"));
        CHECK(p["listenerPath"] == "/run/procview/seccomp.sock");
    }
#if defined(__x86_64__)
    CHECK(native_seccomp_architectures() == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"});
#endif
}

TEST_CASE("a rule naming only sysinfo goes, a rule with args keeps its other names; a second edit changes nothing") {
    Spec spec = Spec::parse(R"({"ociVersion":"1.0.2","linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO",
        "syscalls":[{"names":["sysinfo"],"action":"SCMP_ACT_ERRNO","errnoRet":1},
                    {"names":["uname","sysinfo"],"action":"SCMP_ACT_ALLOW","args":[]},
                    {"names":["read"],"action":"SCMP_ACT_ALLOW"}]}}})");
    REQUIRE(add_sysinfo_notify(spec, kNotify));
    CHECK(spec["linux"]["seccomp"]["syscalls"] == Spec::parse(R"([
        {"names":["uname"],"action":"SCMP_ACT_ALLOW","args":[]},
        {"names":["read"],"action":"SCMP_ACT_ALLOW"},
        {"names":["sysinfo"],"action":"SCMP_ACT_NOTIFY"}])"));
    Spec once = spec;
    auto again = add_sysinfo_notify(spec, kNotify);
    REQUIRE(again);
    CHECK(*again == SysinfoEdit::already);
    CHECK(spec == once);
}

TEST_CASE("another listener's profile is left alone; malformed profiles are errors and change nothing") {
    Spec other = Spec::parse(R"({"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/other.sock",
        "syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}}})");
    Spec copy = other;
    auto r = add_sysinfo_notify(other, kNotify);
    REQUIRE(r);
    CHECK(*r == SysinfoEdit::other_listener);
    CHECK(other == copy);
    for (const char* bad : {R"({"linux":[]})", R"({"linux":{"seccomp":"x"}})",
                            R"({"linux":{"seccomp":{"syscalls":{}}}})",
                            R"({"linux":{"seccomp":{"syscalls":[3]}}})",
                            R"({"linux":{"seccomp":{"syscalls":[{"names":"sysinfo"}]}}})",
                            R"({"linux":{"seccomp":{"syscalls":[{"names":[1]}]}}})"}) {
        CAPTURE(bad);
        Spec spec = Spec::parse(bad);
        Spec before = spec;
        CHECK_FALSE(add_sysinfo_notify(spec, kNotify));
        CHECK(spec == before);
    }
    // A null profile counts as none.
    Spec null_profile = Spec::parse(R"({"linux":{"seccomp":null}})");
    REQUIRE(add_sysinfo_notify(null_profile, kNotify));
    CHECK(null_profile["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ALLOW");
}
