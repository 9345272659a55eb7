#include "ctl/options.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace procview::ctl;

namespace {
procview::Result<Options> parse(std::vector<std::string_view> args) { return parse_options(args); }
}  // namespace

TEST_CASE("options: configure with every flag, both spellings") {
    auto o = parse({"configure", "docker", "--dry-run", "--set-as-default", "--config=/x/daemon.json",
                    "--runtime-path", "/opt/procview-runtime", "--root", "/tmp/r"});
    REQUIRE(o);
    CHECK(o->action == Action::configure);
    CHECK(o->engine->name == "docker");
    CHECK(o->dry_run);
    CHECK(o->settings.set_as_default);
    CHECK(o->settings.runtime_path == "/opt/procview-runtime");
    CHECK(config_path(*o) == "/x/daemon.json");
}

TEST_CASE("options: --root prefixes the engine's default path; defaults otherwise") {
    auto o = parse({"--root", "/tmp/r", "remove", "containerd"});
    REQUIRE(o);
    CHECK(o->action == Action::remove);
    CHECK(config_path(*o) == "/tmp/r/etc/containerd/config.toml");
    auto plain = parse({"configure", "podman"});
    REQUIRE(plain);
    CHECK(config_path(*plain) == "/etc/containers/containers.conf.d/99-procview.conf");
    CHECK(plain->settings.runtime_path == "/usr/bin/procview-runtime");
    CHECK_FALSE(plain->settings.set_as_default);
}

TEST_CASE("options: mistakes are errors that say what is wrong") {
    CHECK(parse({"configure"}).error().message == "expected `configure ENGINE` or `remove ENGINE`");
    CHECK(parse({"install", "docker"}).error().message == "unknown command `install`");
    CHECK(parse({"configure", "lxd"}).error().message.starts_with("unknown engine `lxd`"));
    CHECK(parse({"configure", "crio", "--bogus"}).error().message == "unknown option --bogus");
    CHECK(parse({"configure", "crio", "--config"}).error().message == "--config needs a value");
    CHECK(parse({"configure", "crio", "--root", "rel"}).error().message == "--root needs an absolute path");
    CHECK(parse({"remove", "crio", "--set-as-default"}).error().message ==
          "remove takes no --set-as-default or --runtime-path");
    auto help = parse({"--help"});
    REQUIRE(help);
    CHECK(help->help);
    CHECK(usage().find("hooks.d") != std::string::npos);
}
