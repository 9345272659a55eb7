// procview's configuration file (/etc/procview/procview.json), shared by
// procviewfs, procview-hook and procview-runtime. Every key is optional.
//
// {
//   "mountpoint": "/var/lib/procview",
//   "cgroup_root": "",            // "" = find the cgroup mounts in /proc/self/mountinfo
//   "proc_root": "/proc",
//   "sys_cpu_root": "/sys/devices/system/cpu",
//   "swap": true,                 // false = --no-swap
//   "loadavg": true,              // false = --no-loadavg
//   "cpu_quota": true,            // false = CPU count from the cpuset only
//   "threads": 0,                 // 0 = single-threaded FUSE loop; at most 1024
//   "log_level": "info",          // trace|debug|info|warn|error|off
//   "log_file": "",               // "" = stderr (daemon), syslog-free default
//   "seccomp": true,              // false = --no-seccomp (no syscall filter after start-up)
//   "max_open_per_container": 4096, // open files+directories one container's readers may hold (EMFILE past it)
//   "max_open": 262144,           // ... all readers together (ENFILE past it)
//   "max_containers": 4096,       // pid namespaces tracked at once (past it: the host's view)
//   "cache_window_ms": 1000,      // containers/<pid>-<start>/ files: the kernel may serve a rendering this long (0 = always live)
//   "sysinfo": true,              // answer sysinfo(2) in containers made by procview-runtime (seccomp notify)
//   "sysinfo_listener_path": "/run/procview/seccomp.sock", // where procviewfs takes the containers' notify fds
//   "hook": {
//     "files": [...],             // view names; default: the catalog's default-on views (core/catalog.hpp)
//     "fail_closed": false,       // true = refuse the container when procviewfs is not serving
//     "per_container": true,      // bind containers/<pid>-<start>/proc/* (false = the shared per-reader proc/*)
//     "containers_mountpoint": "/var/lib/procview-containers", // the `procviewfs --containers-only` mount to take them from
//                                 // (default: mountpoint + "-containers"; "" = the mountpoint's containers/ only)
//     "health_timeout_ms": 50,    // at most 60000
//     "timeout_ms": 2000,         // the hook's whole run, even against a server that never answers; 1 to 60000
//     "log_file": "/var/log/procview-hook.log"
//   },
//   "runtime": {
//     "runtime": "",              // "" = first of runc, crun in PATH
//     "enable_all": false,        // true = every container of this runtime (pouch --enableLxcfs)
//     "mode": "hook",             // "hook" (add procview-hook) | "mounts" (config.json bind mounts)
//     "hook_path": "/usr/local/libexec/procview/procview-hook",
//     "fail_closed": false,
//     "time_namespace": true      // opted-in containers get a time namespace (ps start times; docs/runtime.md)
//   }
// }
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog.hpp"
#include "result.hpp"

namespace procview {

inline constexpr std::string_view kDefaultMountpoint = "/var/lib/procview";
// Where the per-container files' own instance serves by default, next to the
// main mount (not inside it: a mount inside a FUSE mount would be gone with
// every remount of it).
inline std::string containers_mountpoint_for(std::string_view mountpoint) {
    return std::string(mountpoint) + "-containers";
}

struct HookConfig {
    // View names of the catalog (core/catalog.hpp, which says what each
    // serves and whether a config.json mount can deliver it); by default its
    // default-on views.
    std::vector<std::string> files = default_view_names();
    bool fail_closed = false;
    // Bind the container's own files (containers/<pid>-<start>/proc/…, keyed
    // by its init's cgroup and cached within cache_window_ms) instead of the
    // shared per-reader proc/ files. The hook and procview-runtime's mounts
    // mode (as containers/self/proc/…: docs/runtime.md) both read it.
    bool per_container = true;
    // With per_container: where `procviewfs --containers-only` serves them
    // (no OPEN round trip; the default install runs it, as
    // procviewfs-containers.service or the DaemonSet's second container).
    // Unset: `mountpoint` + "-containers"; "" = none. When it does not
    // answer, the hook (and the shim) bind those of `mountpoint`.
    std::string containers_mountpoint = containers_mountpoint_for(kDefaultMountpoint);
    unsigned health_timeout_ms = 50;
    // Bound of the hook's whole run from main(): every wait (stdin, the health
    // probe, the mount helper) ends by then, and a run cut short counts as
    // "procviewfs not serving" (fail_closed decides). Under the 5 s `timeout`
    // of the shipped hooks.d entry, so the hook, not the engine, reports it.
    unsigned timeout_ms = 2000;
    std::string log_file;  // "" = stderr
    friend bool operator==(const HookConfig&, const HookConfig&) = default;
};

struct RuntimeConfig {
    std::string runtime;     // path or name of the real runtime; "" = search PATH for runc, crun
    bool enable_all = false;
    std::string mode = "hook";  // "hook" | "mounts"
    std::string hook_path = "/usr/local/libexec/procview/procview-hook";
    bool fail_closed = false;
    // create/run of an opted-in container: give it a time namespace whose
    // CLOCK_BOOTTIME starts near 0, so the kernel's own /proc/<pid>/stat start
    // times agree with the container's uptime (see shim/time_namespace.hpp).
    bool time_namespace = true;
    friend bool operator==(const RuntimeConfig&, const RuntimeConfig&) = default;
};

struct Config {
    std::string mountpoint = std::string(kDefaultMountpoint);
    std::string cgroup_root;  // "" = discover
    std::string proc_root = "/proc";
    std::string sys_cpu_root = "/sys/devices/system/cpu";
    bool swap = true;
    bool loadavg = true;
    bool cpu_quota = true;
    unsigned threads = 0;
    std::string log_level = "info";
    std::string log_file;
    bool seccomp = true;  // procviewfs serves under a syscall allow-list (fusefs/seccomp.hpp)
    // Bounds on what readers can make procviewfs hold (README "Bounds"):
    // open handles per container and in all, and containers tracked.
    unsigned max_open_per_container = 4096;
    unsigned max_open = 262144;
    unsigned max_containers = 4096;
    // How long the kernel may serve a per-container file's rendering from its
    // page cache (fusefs/cached_views.hpp; docs/performance.md); 0: every read renders.
    unsigned cache_window_ms = 1000;
    // sysinfo(2) in opted-in containers: procview-runtime adds a seccomp
    // notify rule pointing at this socket, procviewfs answers (fusefs/sysinfo_agent.hpp).
    bool sysinfo = true;
    std::string sysinfo_listener_path = "/run/procview/seccomp.sock";
    HookConfig hook;
    RuntimeConfig runtime;
    friend bool operator==(const Config&, const Config&) = default;
};

inline constexpr std::string_view kDefaultConfigPath = "/etc/procview/procview.json";

// Parses the JSON text onto the defaults; // and /* */ comments are allowed.
// Malformed JSON, a wrong type or an unknown key is an error naming the key
// (a typo must not silently fall back).
Result<Config> parse_config(std::string_view json_text);

// The names accepted in HookConfig::files: the catalog's.
bool is_known_view_name(std::string_view name);

struct LoadedConfig {
    Config config;
    std::string path;  // the file it came from; "" = the built-in defaults
};
using ReadConfigFile = std::function<Result<std::string>(const std::string& path)>;

// The configuration of procviewfs, procview-hook and procview-runtime alike:
// the `named` file (--config), which must exist and parse, else
// kDefaultConfigPath, whose absence (ENOENT) means the defaults. Any other
// failure is an Error naming the file: a typo in fail_closed must not quietly
// turn into the opposite policy. `read` is the caller's I/O (platform's
// read_file; a fake in tests), so this stays pure.
Result<LoadedConfig> load_config(const std::optional<std::string>& named, const ReadConfigFile& read);

}  // namespace procview
