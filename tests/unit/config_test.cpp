#include "core/config.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <map>

#include <nlohmann/json.hpp>

using namespace procview;

namespace {
Error config_error(std::string_view json) {
    auto r = parse_config(json);
    REQUIRE_FALSE(r);
    CHECK(r.error().errnum == EINVAL);
    return r.error();
}
}  // namespace

TEST_CASE("parse_config: an empty object gives the defaults") {
    auto config = parse_config("{}");
    REQUIRE(config);
    CHECK(config->mountpoint == "/var/lib/procview");
    CHECK(config->cgroup_root.empty());
    CHECK(config->proc_root == "/proc");
    CHECK(config->sys_cpu_root == "/sys/devices/system/cpu");
    CHECK(config->swap);
    CHECK(config->loadavg);
    CHECK(config->cpu_quota);
    CHECK(config->threads == 0);
    CHECK(config->log_level == "info");
    CHECK(config->log_file.empty());
    CHECK(config->seccomp);
    CHECK(config->max_open_per_container == 4096);
    CHECK(config->max_open == 262144);
    CHECK(config->max_containers == 4096);
    CHECK(config->hook.files ==
          std::vector<std::string>{"meminfo", "cpuinfo", "stat", "uptime", "loadavg", "diskstats", "swaps", "vmstat",
                                   "pressure", "cpu"});
    CHECK_FALSE(config->hook.fail_closed);
    CHECK(config->hook.health_timeout_ms == 50);
    CHECK(config->hook.timeout_ms == 2000);
    CHECK(config->runtime.runtime.empty());
    CHECK_FALSE(config->runtime.enable_all);
    CHECK(config->runtime.mode == "hook");
    CHECK(config->runtime.hook_path == "/usr/local/libexec/procview/procview-hook");
    CHECK_FALSE(config->runtime.fail_closed);
    CHECK(config->runtime.time_namespace);
}

TEST_CASE("parse_config: every key") {
    auto config = parse_config(R"({
      // comments are allowed, like in the documented example
      "mountpoint": "/run/pv",
      "cgroup_root": "/tmp/cg",
      "proc_root": "/tmp/proc",
      "sys_cpu_root": "/tmp/sys/cpu",
      "swap": false,
      "loadavg": false,
      "cpu_quota": false,
      "threads": 4,
      "log_level": "debug",
      "log_file": "/var/log/procview.log",
      "max_open_per_container": 100,
      "max_open": 1000,
      "max_containers": 10,
      "hook": {
        "files": ["meminfo", "cpu_online"],
        "fail_closed": true,
        "health_timeout_ms": 250,
        "timeout_ms": 900,
        "log_file": "/tmp/hook.log"
      },
      "runtime": {
        "runtime": "/usr/bin/crun",
        "enable_all": true,
        "mode": "mounts",
        "hook_path": "/opt/pv/hook",
        "fail_closed": true,
        "time_namespace": false
      }
    })");
    REQUIRE_MESSAGE(config, (config ? "" : config.error().message));
    CHECK(config->mountpoint == "/run/pv");
    CHECK(config->cgroup_root == "/tmp/cg");
    CHECK(config->proc_root == "/tmp/proc");
    CHECK(config->sys_cpu_root == "/tmp/sys/cpu");
    CHECK_FALSE(config->swap);
    CHECK_FALSE(config->loadavg);
    CHECK_FALSE(config->cpu_quota);
    CHECK(config->threads == 4);
    CHECK(config->log_level == "debug");
    CHECK(config->log_file == "/var/log/procview.log");
    CHECK(config->max_open_per_container == 100);
    CHECK(config->max_open == 1000);
    CHECK(config->max_containers == 10);
    CHECK(config->hook.files == std::vector<std::string>{"meminfo", "cpu_online"});
    CHECK(config->hook.fail_closed);
    CHECK(config->hook.health_timeout_ms == 250);
    CHECK(config->hook.timeout_ms == 900);
    CHECK(config->hook.log_file == "/tmp/hook.log");
    CHECK(config->runtime.runtime == "/usr/bin/crun");
    CHECK(config->runtime.enable_all);
    CHECK(config->runtime.mode == "mounts");
    CHECK(config->runtime.hook_path == "/opt/pv/hook");
    CHECK(config->runtime.fail_closed);
    CHECK_FALSE(config->runtime.time_namespace);
}

TEST_CASE("parse_config: runtime.time_namespace must be a bool") {
    auto config = parse_config(R"({"runtime": {"time_namespace": "no"}})");
    REQUIRE_FALSE(config);
    CHECK(config.error().message.find("runtime.time_namespace") != std::string::npos);
    auto off = parse_config(R"({"runtime": {"time_namespace": false}})");
    REQUIRE(off);
    CHECK_FALSE(off->runtime.time_namespace);
    CHECK(off->runtime.mode == "hook");
}

TEST_CASE("parse_config: partial sections keep the other defaults") {
    auto config = parse_config(R"({"hook": {"fail_closed": true}, "threads": 2})");
    REQUIRE(config);
    CHECK(config->hook.fail_closed);
    CHECK(config->hook.files.size() == 10);
    CHECK(config->threads == 2);
    CHECK(config->runtime.mode == "hook");
}

TEST_CASE("parse_config: malformed JSON") {
    for (const char* bad : {"", "{", "{\"swap\": tru}", "{\"swap\": true,}", "not json", "{} {}"}) {
        CAPTURE(bad);
        Error e = config_error(bad);
        CHECK(e.message.find("malformed JSON") != std::string::npos);
    }
    CHECK(config_error("[]").message.find("object") != std::string::npos);
    CHECK(config_error("42").message.find("object") != std::string::npos);
}

TEST_CASE("parse_config: unknown keys are named") {
    CHECK(config_error(R"({"swapp": true})").message.find("`swapp`") != std::string::npos);
    CHECK(config_error(R"({"hook": {"filez": []}})").message.find("`hook.filez`") != std::string::npos);
    CHECK(config_error(R"({"runtime": {"binary": "x"}})").message.find("`runtime.binary`") != std::string::npos);
}

TEST_CASE("parse_config: wrong types are named") {
    struct Case {
        const char* json;
        const char* key;
    };
    for (const Case& c : {Case{R"({"swap": "yes"})", "`swap`"},
                             Case{R"({"loadavg": 1})", "`loadavg`"},
                             Case{R"({"mountpoint": 5})", "`mountpoint`"},
                             Case{R"({"threads": -1})", "`threads`"},
                             Case{R"({"threads": 1.5})", "`threads`"},
                             Case{R"({"threads": "4"})", "`threads`"},
                             Case{R"({"threads": 100000})", "`threads`"},
                             Case{R"({"log_file": null})", "`log_file`"},
                             Case{R"({"seccomp": "off"})", "`seccomp`"},
                             Case{R"({"max_open_per_container": 0})", "`max_open_per_container`"},
                             Case{R"({"max_open": 16777217})", "`max_open`"},
                             Case{R"({"max_containers": -1})", "`max_containers`"},
                             Case{R"({"hook": []})", "`hook`"},
                             Case{R"({"hook": {"files": "meminfo"}})", "`hook.files`"},
                             Case{R"({"hook": {"files": [1]}})", "`hook.files`"},
                             Case{R"({"hook": {"health_timeout_ms": true}})", "`hook.health_timeout_ms`"},
                             Case{R"({"hook": {"health_timeout_ms": 4294967296}})", "`hook.health_timeout_ms`"},
                             Case{R"({"hook": {"timeout_ms": 0}})", "`hook.timeout_ms`"},
                             Case{R"({"hook": {"timeout_ms": 60001}})", "`hook.timeout_ms`"},
                             Case{R"({"hook": {"timeout_ms": "2s"}})", "`hook.timeout_ms`"},
                             Case{R"({"runtime": {"enable_all": "true"}})", "`runtime.enable_all`"},
                             Case{R"({"runtime": "runc"})", "`runtime`"}}) {
        CAPTURE(c.json);
        CHECK(config_error(c.json).message.find(c.key) != std::string::npos);
    }
}

TEST_CASE("parse_config: seccomp can be turned off") {
    auto config = parse_config(R"({"seccomp": false})");
    REQUIRE(config);
    CHECK_FALSE(config->seccomp);
    CHECK(config->swap);  // nothing else changes
}

TEST_CASE("parse_config: validated values") {
    Error e = config_error(R"({"hook": {"files": ["meminfo", "slabinfo"]}})");
    CHECK(e.message.find("`hook.files`") != std::string::npos);
    CHECK(e.message.find("slabinfo") != std::string::npos);
    CHECK(config_error(R"({"runtime": {"mode": "inject"}})").message.find("`runtime.mode`") != std::string::npos);
    CHECK(config_error(R"({"log_level": "verbose"})").message.find("`log_level`") != std::string::npos);
    for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
        CAPTURE(level);
        CHECK(parse_config(std::string(R"({"log_level": ")") + level + "\"}"));
    }
}

TEST_CASE("is_known_view_name") {
    for (const char* name : {"meminfo", "cpuinfo", "stat", "uptime", "loadavg", "diskstats", "swaps", "vmstat",
                             "pressure", "cpu_online", "cpu"})
        CHECK(is_known_view_name(name));
    for (const char* name : {"", "slabinfo", "MEMINFO", "meminfo ", "proc/meminfo"}) CHECK_FALSE(is_known_view_name(name));
}

TEST_CASE("parse_config: the shipped config/procview.json is exactly the defaults, every key") {
    std::ifstream in(std::string(PROCVIEW_FIXTURES) + "/../../config/procview.json");
    REQUIRE(in);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto shipped = parse_config(text);
    REQUIRE_MESSAGE(shipped, (shipped ? "" : shipped.error().message));
    CHECK(*shipped == Config{});
    // Every key is written out: the file documents the defaults, so none may
    // be left to them. The counts are Config's, HookConfig's and
    // RuntimeConfig's fields: a new field needs its key here and in the file.
    auto json = nlohmann::json::parse(text, nullptr, false, /*ignore_comments=*/true);
    REQUIRE(json.is_object());
    CHECK(json.size() == 19);
    CHECK(json["hook"].size() == 7);
    CHECK(json["runtime"].size() == 6);
}

TEST_CASE("parse_config: a config differs from the defaults in any one key") {
    // operator== sees every field: one changed key makes a Config unequal to the defaults.
    for (const char* json : {R"({"mountpoint": "/x"})", R"({"seccomp": false})", R"({"max_open": 7})",
                             R"({"hook": {"files": ["meminfo"]}})", R"({"hook": {"log_file": "x"}})",
                             R"({"runtime": {"time_namespace": false}})", R"({"sysinfo_listener_path": "/s"})"}) {
        CAPTURE(json);
        auto config = parse_config(json);
        REQUIRE(config);
        CHECK_FALSE(*config == Config{});
    }
}

TEST_CASE("load_config: the named file, else the default file, else the defaults") {
    std::map<std::string, std::string> files;
    auto read = [&](const std::string& path) -> Result<std::string> {
        auto it = files.find(path);
        if (it == files.end()) return make_error(ENOENT, "open `" + path + "`");
        return it->second;
    };
    auto none = load_config(std::nullopt, read);
    REQUIRE(none);
    CHECK(none->path.empty());
    CHECK(none->config == Config{});

    auto missing = load_config(std::string("/etc/pv.json"), read);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().errnum == ENOENT);
    CHECK(missing.error().message == "config: open `/etc/pv.json`");

    files[std::string(kDefaultConfigPath)] = R"({"threads": 3})";
    auto by_default = load_config(std::nullopt, read);
    REQUIRE(by_default);
    CHECK(by_default->path == kDefaultConfigPath);
    CHECK(by_default->config.threads == 3);

    files["/etc/pv.json"] = R"({"thread": 3})";
    auto typo = load_config(std::string("/etc/pv.json"), read);
    REQUIRE_FALSE(typo);
    CHECK(typo.error().message == "config `/etc/pv.json`: config: unknown key `thread`");
}

TEST_CASE("parse_config: sysinfo and its listener path") {
    Config defaults;
    CHECK(defaults.sysinfo);
    CHECK(defaults.sysinfo_listener_path == "/run/procview/seccomp.sock");
    auto off = parse_config(R"({"sysinfo": false, "sysinfo_listener_path": "/run/pv/s.sock"})");
    REQUIRE(off);
    CHECK_FALSE(off->sysinfo);
    CHECK(off->sysinfo_listener_path == "/run/pv/s.sock");
    for (const char* bad : {R"({"sysinfo": "yes"})", R"({"sysinfo_listener_path": "relative.sock"})",
                            R"({"sysinfo_listener_path": ""})"}) {
        auto r = parse_config(bad);
        CHECK_FALSE(r);
        if (!r) CHECK(r.error().message.find("sysinfo") != std::string::npos);
    }
    CHECK_FALSE(parse_config("{\"sysinfo_listener_path\": \"/" + std::string(120, 'a') + "\"}"));
}

TEST_CASE("parse_config: cache_window_ms, 0 to 60000") {
    auto zero = parse_config(R"({"cache_window_ms": 0})");
    REQUIRE(zero);
    CHECK(zero->cache_window_ms == 0);
    auto some = parse_config(R"({"cache_window_ms": 250})");
    REQUIRE(some);
    CHECK(some->cache_window_ms == 250);
    CHECK(!parse_config(R"({"cache_window_ms": 60001})"));
    CHECK(!parse_config(R"({"cache_window_ms": -1})"));
    CHECK(!parse_config(R"({"cache_window_ms": "1s"})"));
}

TEST_CASE("parse_config: hook.per_container and hook.containers_mountpoint") {
    auto c = parse_config(R"({"hook": {"per_container": false, "containers_mountpoint": "/var/lib/procview-c"}})");
    REQUIRE(c);
    CHECK(!c->hook.per_container);
    CHECK(c->hook.containers_mountpoint == "/var/lib/procview-c");
    CHECK(!parse_config(R"({"hook": {"containers_mountpoint": "relative"}})"));
    CHECK(!parse_config(R"({"hook": {"per_container": "yes"}})"));
}

// The per-container files' own instance is found next to the main mount
// unless the file says where (or "" for none).
TEST_CASE("parse_config: hook.containers_mountpoint defaults to the mountpoint's sibling") {
    CHECK(Config{}.hook.containers_mountpoint == "/var/lib/procview-containers");
    auto empty = parse_config("{}");
    REQUIRE(empty);
    CHECK(empty->hook.containers_mountpoint == "/var/lib/procview-containers");
    auto moved = parse_config(R"({"mountpoint": "/run/pv", "hook": {"fail_closed": true}})");
    REQUIRE(moved);
    CHECK(moved->hook.containers_mountpoint == "/run/pv-containers");
    auto none = parse_config(R"({"mountpoint": "/run/pv", "hook": {"containers_mountpoint": ""}})");
    REQUIRE(none);
    CHECK(none->hook.containers_mountpoint.empty());
}
