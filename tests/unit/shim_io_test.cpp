// procview-runtime's I/O edge on scratch files (no root needed): the real
// runtime lookup, the log writer, the atomic spec replacement and the whole
// bundle edit with its failure modes.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "shim/bundle_edit.hpp"
#include "shim/real_runtime.hpp"
#include "shim/runtime_log.hpp"
#include "shim/spec_edit.hpp"

namespace fs = std::filesystem;
using namespace procview;
using namespace procview::shim;

namespace {

struct ScratchDir {
    fs::path path;
    ScratchDir() {
        std::string tmpl = (fs::temp_directory_path() / "pvshim-unit-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~ScratchDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
};

void write(const fs::path& p, const std::string& text, fs::perms mode = fs::perms(0644)) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    fs::permissions(p, mode);
}

std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string fixture(const std::string& name) { return read(fs::path(PROCVIEW_FIXTURES) / "oci" / name); }

}  // namespace

TEST_CASE("the real runtime: first executable candidate that is not procview-runtime itself") {
    ScratchDir d;
    write(d.path / "a/runc", "#!/bin/sh\n", fs::perms(0755));  // stands for procview-runtime installed as runc
    write(d.path / "b/runc", "#!/bin/sh\n", fs::perms(0644));  // not executable
    write(d.path / "c/runc", "#!/bin/sh\n", fs::perms(0755));
    write(d.path / "c/crun", "#!/bin/sh\n", fs::perms(0755));
    std::string path_env = (d.path / "a").string() + ":" + (d.path / "b").string() + ":" + (d.path / "c").string();

    auto found = find_real_runtime("", path_env, (d.path / "a/runc").string());
    REQUIRE(found.ok());
    CHECK(*found == (d.path / "c/runc").string());
    auto crun = find_real_runtime("crun", path_env, (d.path / "a/runc").string());
    REQUIRE(crun.ok());
    CHECK(*crun == (d.path / "c/crun").string());

    auto only_self = find_real_runtime("", (d.path / "a").string(), (d.path / "a/runc").string());
    REQUIRE_FALSE(only_self.ok());
    CHECK(only_self.error().errnum == ENOENT);
    CHECK(only_self.error().message.find("is procview-runtime itself") != std::string::npos);

    auto missing = find_real_runtime((d.path / "nope").string(), path_env, "/proc/self/exe");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("runtime.runtime") != std::string::npos);
}

TEST_CASE("log lines are appended to the runtime's --log file") {
    ScratchDir d;
    std::string file = (d.path / "log.json").string();
    write(file, "{\"level\":\"info\",\"msg\":\"from runc\",\"time\":\"T\"}\n");
    {
        RuntimeLog log(file, LogFormat::json, false);
        log.debug("hidden without --debug");
        log.info("procview: one");
        log.warning("procview: two");
    }
    std::string text = read(file);
    CHECK(text.starts_with("{\"level\":\"info\",\"msg\":\"from runc\",\"time\":\"T\"}\n"
                           "{\"level\":\"info\",\"msg\":\"procview: one\",\"time\":\""));
    CHECK(text.find("{\"level\":\"warning\",\"msg\":\"procview: two\"") != std::string::npos);
    CHECK(text.find("hidden") == std::string::npos);

    RuntimeLog crun_style("file:" + (d.path / "crun.log").string(), LogFormat::text, true);
    crun_style.debug("shown with --debug");
    CHECK(read(d.path / "crun.log").find("level=debug msg=\"shown with --debug\"") != std::string::npos);
}

TEST_CASE("replace_file keeps the mode and leaves no temporary file") {
    ScratchDir d;
    write(d.path / "config.json", "old", fs::perms(0600));
    REQUIRE(replace_file((d.path / "config.json").string(), "new content").ok());
    CHECK(read(d.path / "config.json") == "new content");
    CHECK((fs::status(d.path / "config.json").permissions() & fs::perms::all) == fs::perms(0600));
    CHECK(std::distance(fs::directory_iterator(d.path), fs::directory_iterator{}) == 1);
    CHECK_FALSE(replace_file((d.path / "missing.json").string(), "x").ok());
}

TEST_CASE("the bundle edit end to end on a real containerd spec") {
    ScratchDir d;
    auto spec_file = (d.path / "config.json").string();
    Config config;
    config.runtime.hook_path = "/bin/true";  // executable, so the hook is accepted

    SUBCASE("opted in: the hook is added once") {
        write(spec_file, fixture("containerd-ctr-run.json"));
        auto first = edit_bundle_spec(spec_file, config, "/etc/pv.json");
        REQUIRE(first.ok());
        CHECK(first->changed);
        auto spec = parse_spec(read(spec_file));
        REQUIRE(spec.ok());
        CHECK((*spec)["hooks"]["createRuntime"][0] == make_hook({"/bin/true", "/etc/pv.json"}));
        auto second = edit_bundle_spec(spec_file, config, "/etc/pv.json");
        REQUIRE(second.ok());
        CHECK_FALSE(second->changed);
    }
    SUBCASE("not opted in: the file is not rewritten") {
        std::string original = fixture("runc-spec.json");
        write(spec_file, original);
        auto r = edit_bundle_spec(spec_file, config, "");
        REQUIRE(r.ok());
        CHECK_FALSE(r->changed);
        CHECK(r->summary.starts_with("not opted in"));
        CHECK(read(spec_file) == original);
    }
    SUBCASE("enable_all: the hook and the annotation") {
        write(spec_file, fixture("runc-spec.json"));
        config.runtime.enable_all = true;
        auto r = edit_bundle_spec(spec_file, config, "");
        REQUIRE(r.ok());
        CHECK(r->changed);
        auto spec = parse_spec(read(spec_file));
        CHECK(spec_annotation(*spec, "procview.io/enabled") == "true");
        CHECK((*spec)["hooks"]["createRuntime"][0]["args"] == Spec::array({"procview-hook", "createRuntime"}));
    }
    SUBCASE("a hook that cannot be executed is not added") {
        write(spec_file, fixture("containerd-ctr-run.json"));
        config.runtime.hook_path = (d.path / "no-such-hook").string();
        auto r = edit_bundle_spec(spec_file, config, "");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().errnum == ENOENT);
        CHECK(read(spec_file) == fixture("containerd-ctr-run.json"));
    }
    SUBCASE("mounts mode needs procviewfs serving") {
        write(spec_file, fixture("containerd-ctr-run.json"));
        config.runtime.mode = "mounts";
        config.mountpoint = d.path.string();  // a plain directory, not a FUSE mount
        auto r = edit_bundle_spec(spec_file, config, "");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.starts_with("procviewfs at `" + d.path.string() + "`"));
        CHECK(read(spec_file) == fixture("containerd-ctr-run.json"));
    }
    SUBCASE("an opted-in spec nested 100,000 deep: a clear error, the file untouched, no crash in the edit") {
        std::string deep = R"({"annotations": {"procview.io/enabled": "true"}, "x": )" + std::string(100'000, '[') +
                           std::string(100'000, ']') + "}";
        write(spec_file, deep);
        auto r = edit_bundle_spec(spec_file, config, "");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == "spec `" + spec_file + "`: JSON nested deeper than 256 levels");
        CHECK(read(spec_file) == deep);
    }
    SUBCASE("not JSON, and no file") {
        write(spec_file, "this is { not JSON");
        auto r = edit_bundle_spec(spec_file, config, "");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.starts_with("spec `" + spec_file + "`: not JSON"));
        auto missing = edit_bundle_spec((d.path / "nope/config.json").string(), config, "");
        REQUIRE_FALSE(missing.ok());
        CHECK(missing.error().errnum == ENOENT);
    }
}

#include <sys/socket.h>
#include <sys/un.h>

#include "platform/unique_fd.hpp"

TEST_CASE("the bundle edit adds the sysinfo rule only when the agent's listener serves") {
    ScratchDir d;
    auto spec_file = (d.path / "config.json").string();
    Config config;
    config.runtime.hook_path = "/bin/true";
    config.sysinfo_listener_path = (d.path / "s.sock").string();
    const SysinfoRequest request{true, "c1"};
    write(spec_file, fixture("containerd-ctr-run.json"));

    SUBCASE("nobody listens: the views only, and a note saying sysinfo shows the host") {
        auto r = edit_bundle_spec(spec_file, config, "", request);
        REQUIRE(r.ok());
        auto spec = parse_spec(read(spec_file));
        REQUIRE(spec.ok());
        CHECK_FALSE((*spec)["linux"].contains("seccomp"));
        bool noted = false;
        for (const auto& n : r->notes) noted = noted || n.find("sysinfo(2) shows the host") != std::string::npos;
        CHECK(noted);
    }
    SUBCASE("nobody listens under fail_closed: refused, the spec unchanged") {
        config.runtime.fail_closed = true;
        auto r = edit_bundle_spec(spec_file, config, "", request);
        CHECK_FALSE(r.ok());
        CHECK(read(spec_file) == fixture("containerd-ctr-run.json"));
    }
    SUBCASE("a listener (root's): the notify rule, naming the container") {
        if (::geteuid() != 0) {
            MESSAGE("SKIP: the listener must be root's");
            return;
        }
        UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, config.sysinfo_listener_path.c_str(), sizeof addr.sun_path - 1);
        REQUIRE(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(sock.get(), 4) == 0);
        CHECK(check_listener_serving(config.sysinfo_listener_path).ok());
        auto r = edit_bundle_spec(spec_file, config, "", request);
        REQUIRE(r.ok());
        auto spec = parse_spec(read(spec_file));
        REQUIRE(spec.ok());
        const auto& p = (*spec)["linux"]["seccomp"];
        CHECK(p["listenerPath"] == config.sysinfo_listener_path);
        CHECK(p["listenerMetadata"] == "procview:c1");
        CHECK(p["syscalls"].back()["action"] == "SCMP_ACT_NOTIFY");
        // config sysinfo false, or not a create: no rule.
        write(spec_file, fixture("containerd-ctr-run.json"));
        config.sysinfo = false;
        REQUIRE(edit_bundle_spec(spec_file, config, "", request).ok());
        CHECK_FALSE((*parse_spec(read(spec_file)))["linux"].contains("seccomp"));
        config.sysinfo = true;
        write(spec_file, fixture("containerd-ctr-run.json"));
        REQUIRE(edit_bundle_spec(spec_file, config, "", SysinfoRequest{}).ok());
        CHECK_FALSE((*parse_spec(read(spec_file)))["linux"].contains("seccomp"));
    }
}
