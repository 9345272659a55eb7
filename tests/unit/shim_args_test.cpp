// procview-runtime's command-line reading over real command lines: what
// containerd's go-runc, Docker (through containerd), BuildKit and crun users
// pass. The containerd lines were captured from containerd 1.6.20's runc v2
// shim on this project's test machine.
#include <doctest/doctest.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "shim/runc_args.hpp"

using procview::shim::bundle_dir;
using procview::shim::parse_runc_command_line;
using procview::shim::RuncCommandLine;
using procview::shim::spec_path;
using procview::shim::subcommand_reads_bundle;

namespace {

std::vector<std::string> words(const std::string& line) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

struct Case {
    const char* name;
    const char* line;
    const char* subcommand;
    std::optional<std::string> bundle;
    std::optional<std::string> container_id;
    std::optional<std::string> log_path;
    std::optional<std::string> log_format;
};

const std::string kCtdBundle = "/tmp/pvshim-fx/ctd/state/io.containerd.runtime.v2.task/pvshim-fx/pvshim-fx-c1";

const std::vector<Case>& real_command_lines() {
    static const std::vector<Case> cases{
        {"containerd 1.6 runc v2 shim: create",
         "--root /run/containerd/runc/pvshim-fx --log /tmp/pvshim-fx/ctd/state/io.containerd.runtime.v2.task/"
         "pvshim-fx/pvshim-fx-c1/log.json --log-format json create --bundle "
         "/tmp/pvshim-fx/ctd/state/io.containerd.runtime.v2.task/pvshim-fx/pvshim-fx-c1 --pid-file "
         "/tmp/pvshim-fx/ctd/state/io.containerd.runtime.v2.task/pvshim-fx/pvshim-fx-c1/init.pid pvshim-fx-c1",
         "create", kCtdBundle, "pvshim-fx-c1", kCtdBundle + "/log.json", "json"},
        {"containerd CRI with systemd cgroups and a tty",
         "--root /run/containerd/runc/k8s.io --log /run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/log.json "
         "--log-format json --systemd-cgroup create --bundle /run/containerd/io.containerd.runtime.v2.task/k8s.io/abc "
         "--pid-file /run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/init.pid --console-socket "
         "/tmp/pty2748/pty.sock abc",
         "create", "/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc", "abc",
         "/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/log.json", "json"},
        {"containerd: start",
         "--root /run/containerd/runc/pvshim-fx --log /b/log.json --log-format json start pvshim-fx-c1", "start",
         std::nullopt, "pvshim-fx-c1", "/b/log.json", "json"},
        {"containerd: exec (ctr task exec)",
         "--root /run/containerd/runc/pvshim-fx --log /b/log.json --log-format json exec --process "
         "/tmp/runc-process2077657724 --detach --pid-file /b/e1.pid pvshim-fx-c1",
         "exec", std::nullopt, "pvshim-fx-c1", "/b/log.json", "json"},
        {"containerd: kill with a signal", "--root /r --log /b/log.json --log-format json kill pvshim-fx-c1 15",
         "kill", std::nullopt, "pvshim-fx-c1", "/b/log.json", "json"},
        {"containerd: kill --all", "--root /r kill --all pvshim-fx-c1 9", "kill", std::nullopt, "pvshim-fx-c1",
         std::nullopt, std::nullopt},
        {"containerd: delete --force", "--root /r --log /b/log.json --log-format json delete --force pvshim-fx-c1",
         "delete", std::nullopt, "pvshim-fx-c1", "/b/log.json", "json"},
        {"containerd: update from stdin", "--root /r --log /b/log.json --log-format json update --resources - c1",
         "update", std::nullopt, "c1", "/b/log.json", "json"},
        {"containerd: features", "features", "features", std::nullopt, std::nullopt, std::nullopt, std::nullopt},
        {"--version", "--version", "", std::nullopt, std::nullopt, std::nullopt, std::nullopt},
        {"-v", "-v", "", std::nullopt, std::nullopt, std::nullopt, std::nullopt},
        {"--help", "--help", "", std::nullopt, std::nullopt, std::nullopt, std::nullopt},
        {"Docker through containerd",
         "--root /var/run/docker/runtime-runc/moby --log /run/containerd/io.containerd.runtime.v2.task/moby/9f2/log.json"
         " --log-format json create --bundle /run/containerd/io.containerd.runtime.v2.task/moby/9f2 --pid-file "
         "/run/containerd/io.containerd.runtime.v2.task/moby/9f2/init.pid 9f2",
         "create", "/run/containerd/io.containerd.runtime.v2.task/moby/9f2", "9f2",
         "/run/containerd/io.containerd.runtime.v2.task/moby/9f2/log.json", "json"},
        {"BuildKit executor: run --keep",
         "--log /var/lib/buildkit/runc-overlayfs/executor/runc-log.json --log-format json run --bundle "
         "/var/lib/buildkit/runc-overlayfs/executor/x1y2 --keep x1y2",
         "run", "/var/lib/buildkit/runc-overlayfs/executor/x1y2", "x1y2",
         "/var/lib/buildkit/runc-overlayfs/executor/runc-log.json", "json"},
        {"run detached with a console socket", "run -d --bundle /b --console-socket /s.sock web", "run", "/b", "web",
         std::nullopt, std::nullopt},
        {"crun style: = values and file: log",
         "--root=/run/crun --log=file:/tmp/l.json --log-format=json --cgroup-manager=systemd create --bundle=/b "
         "--pid-file=/p web",
         "create", "/b", "web", "file:/tmp/l.json", "json"},
        {"crun style: glued short value", "create -b/srv/b web", "create", "/srv/b", "web", std::nullopt,
         std::nullopt},
        {"Go single-dash flags", "-root /r -log /l.txt -log-format text create -bundle /b web", "create", "/b", "web",
         "/l.txt", "text"},
        {"Go single-dash with =", "create -bundle=/b web", "create", "/b", "web", std::nullopt, std::nullopt},
        {"-b with a space", "create -b /b web", "create", "/b", "web", std::nullopt, std::nullopt},
        {"flags after the container id", "create web --bundle /b --pid-file /p --no-pivot", "create", "/b", "web",
         std::nullopt, std::nullopt},
        {"bundle from the current directory", "create --pid-file /p web", "create", std::nullopt, "web", std::nullopt,
         std::nullopt},
        {"bool global with a value", "--systemd-cgroup=true --rootless=auto create --bundle /b web", "create", "/b",
         "web", std::nullopt, std::nullopt},
        {"--rootless with a separate value", "--rootless true run --bundle /b web", "run", "/b", "web", std::nullopt,
         std::nullopt},
        {"restore", "restore --image-path /img --work-path /w --bundle /b --detach --pid-file /p web", "restore", "/b",
         "web", std::nullopt, std::nullopt},
        {"-- before the id", "create --bundle /b -- -odd-id", "create", "/b", "-odd-id", std::nullopt, std::nullopt},
        {"unknown subcommand", "--root /r nosuch web", "nosuch", std::nullopt, "web", std::nullopt, std::nullopt},
        {"exec's command is not parsed", "exec -t web sh -c --bundle", "exec", std::nullopt, "web", std::nullopt,
         std::nullopt},
        {"dangling global value", "--log", "", std::nullopt, std::nullopt, std::nullopt, std::nullopt},
    };
    return cases;
}

}  // namespace

TEST_CASE("runc command lines: subcommand, bundle, id and log flags") {
    for (const auto& c : real_command_lines()) {
        CAPTURE(c.name);
        auto args = words(c.line);
        auto parsed = parse_runc_command_line(args);
        REQUIRE(parsed.ok());
        CHECK(parsed->subcommand == c.subcommand);
        CHECK(parsed->bundle == c.bundle);
        CHECK(parsed->container_id == c.container_id);
        CHECK(parsed->log_path == c.log_path);
        CHECK(parsed->log_format == c.log_format);
        // Nothing but our own options is ever removed.
        CHECK(parsed->runtime_args == args);
        CHECK_FALSE(parsed->procview_config.has_value());
        if (!std::string(c.subcommand).empty()) {
            REQUIRE(parsed->subcommand_index.has_value());
            CHECK(parsed->runtime_args[*parsed->subcommand_index] == c.subcommand);
        }
    }
}

TEST_CASE("our own option is taken from the front and stripped") {
    // Docker's runtimeArgs come first: daemon.json "runtimeArgs": ["--procview-config", FILE].
    auto args = words("--procview-config /etc/procview/p.json --root /var/run/docker/runtime-runc/moby create "
                      "--bundle /b web");
    auto parsed = parse_runc_command_line(args);
    REQUIRE(parsed.ok());
    CHECK(parsed->procview_config == "/etc/procview/p.json");
    CHECK(parsed->runtime_args == words("--root /var/run/docker/runtime-runc/moby create --bundle /b web"));
    CHECK(parsed->subcommand == "create");
    CHECK(*parsed->subcommand_index == 2);

    auto joined = parse_runc_command_line(words("--procview-config=/p.json --procview-config=/q.json features"));
    REQUIRE(joined.ok());
    CHECK(joined->procview_config == "/q.json");
    CHECK(joined->runtime_args == words("features"));
}

TEST_CASE("--procview-enable from Docker's runtimeArgs opts the runtime's containers in and is stripped") {
    auto parsed = parse_runc_command_line(
        words("--procview-enable --root /var/run/docker/runtime-runc/moby create --bundle /b web"));
    REQUIRE(parsed.ok());
    CHECK(parsed->procview_enable);
    CHECK_FALSE(parsed->procview_config.has_value());
    CHECK(parsed->runtime_args == words("--root /var/run/docker/runtime-runc/moby create --bundle /b web"));
    CHECK(parsed->subcommand == "create");

    auto both = parse_runc_command_line(words("--procview-config /p.json --procview-enable state web"));
    REQUIRE(both.ok());
    CHECK(both->procview_enable);
    CHECK(both->procview_config == "/p.json");
    CHECK(both->runtime_args == words("state web"));

    auto plain = parse_runc_command_line(words("create --bundle /b --procview-enable web"));
    REQUIRE(plain.ok());
    CHECK_FALSE(plain->procview_enable);  // after the runtime's arguments it is the runtime's
}

TEST_CASE("our own option after the runtime's arguments belongs to the runtime") {
    auto args = words("create --bundle /b --procview-config /p.json web");
    auto parsed = parse_runc_command_line(args);
    REQUIRE(parsed.ok());
    CHECK_FALSE(parsed->procview_config.has_value());
    CHECK(parsed->runtime_args == args);
}

TEST_CASE("a --procview-config without a value is an error") {
    CHECK_FALSE(parse_runc_command_line(words("--procview-config")).ok());
    CHECK_FALSE(parse_runc_command_line(words("--procview-config=")).ok());
    auto r = parse_runc_command_line(words("--procview-config"));
    CHECK(r.error().message.find("--procview-config") != std::string::npos);
}

TEST_CASE("no arguments at all") {
    auto parsed = parse_runc_command_line({});
    REQUIRE(parsed.ok());
    CHECK(parsed->subcommand.empty());
    CHECK_FALSE(parsed->subcommand_index.has_value());
}

TEST_CASE("--debug") {
    CHECK(parse_runc_command_line(words("--debug create web"))->debug);
    CHECK(parse_runc_command_line(words("--debug=true create web"))->debug);
    CHECK_FALSE(parse_runc_command_line(words("--debug=false create web"))->debug);
    CHECK_FALSE(parse_runc_command_line(words("create --debug web"))->debug);  // a subcommand flag, not runc's
}

TEST_CASE("which subcommands read the bundle") {
    for (const char* s : {"create", "run", "restore"}) CHECK(subcommand_reads_bundle(s));
    for (const char* s : {"start", "state", "kill", "delete", "exec", "update", "features", "ps", "events", "spec",
                          "checkpoint", "pause", "resume", "list", ""})
        CHECK_FALSE(subcommand_reads_bundle(s));
}

TEST_CASE("where the spec is") {
    auto at = [](const std::string& line) {
        auto parsed = parse_runc_command_line(words(line));
        REQUIRE(parsed.ok());
        return std::pair{bundle_dir(*parsed, "/work/dir"), spec_path(*parsed, "/work/dir")};
    };
    CHECK(at("create --bundle /b web") == std::pair<std::string, std::string>{"/b", "/b/config.json"});
    CHECK(at("create --bundle /b/ web") == std::pair<std::string, std::string>{"/b/", "/b/config.json"});
    CHECK(at("create web") == std::pair<std::string, std::string>{"/work/dir", "/work/dir/config.json"});
    CHECK(at("create --bundle rel web") == std::pair<std::string, std::string>{"/work/dir/rel", "/work/dir/rel/config.json"});
    // crun's --config/-f: relative to the bundle, or absolute.
    CHECK(at("create --bundle /b --config alt.json web").second == "/b/alt.json");
    CHECK(at("create -b /b -f /etc/x.json web").second == "/etc/x.json");
    CHECK(at("create -b/b -falt.json web").second == "/b/alt.json");
    // -f means something else outside create/run/restore.
    auto ps = parse_runc_command_line(words("ps -f json web"));
    CHECK_FALSE(ps->spec_file.has_value());
    CHECK(ps->container_id == "web");
}
