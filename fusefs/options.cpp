#include "fusefs/options.hpp"

#include <functional>

#include "core/text.hpp"

namespace procview {

std::string daemon_usage() {
    return R"(usage: procviewfs [options] [MOUNTPOINT]
       procviewfs --unmount [MOUNTPOINT]

Serves container-aware /proc and /sys views under MOUNTPOINT (default /var/lib/procview).

  -f, --foreground        stay in the foreground (logs to stderr)
  -d, --debug             debug logging
  -p, --pidfile FILE      write the daemon's pid to FILE
      --config FILE       JSON configuration (default /etc/procview/procview.json if present)
      --cgroup-root DIR   read cgroups below DIR instead of the mounted hierarchies
      --proc-root DIR     read the host's meminfo, stat, cpuinfo… from DIR (default /proc)
      --sys-cpu-root DIR  the host's CPU sysfs directory (default /sys/devices/system/cpu)
      --no-swap           show no swap in containers
      --no-loadavg        show the host's loadavg (no load sampling)
      --no-cpu-quota      count CPUs from the cpuset only, ignoring CFS quotas
      --containers-only   serve only containers/ (per-container files), and
                          without OPEN: the kernel then serves reads within the
                          window with no request at all (a mount of its own)
      --threads N         FUSE worker threads (0 = one, the fastest here)
      --log-file FILE     log to FILE
      --takeover          replace the instance serving MOUNTPOINT without a gap (upgrades)
      --no-seccomp        serve without the system call filter (see fusefs/seccomp.hpp)
      --no-sysinfo        do not answer sysinfo(2) for procview-runtime's containers
      --sysinfo-listener PATH  the socket runtimes hand containers' seccomp fds to
                          (default /run/procview/seccomp.sock)
      --unmount           remove the mount: its keeper unmounts it and exits, a
                          serving procviewfs exits (stop its service first)
      --version           print the version
  -h, --help              this text

Signals: SIGTERM/SIGINT stop serving and exit, leaving the mount alive. However
procviewfs stops or dies, its mount stays alive (held by a small keeper
process) and the next procviewfs for the same MOUNTPOINT picks it up: running
containers see a pause, not "Transport endpoint is not connected". Only
--unmount removes the mount.
)";
}

Result<DaemonOptions> parse_daemon_options(const std::vector<std::string>& args,
                                           const ReadConfigFile& read_file) {
    DaemonOptions out;
    // First pass: the config file, so flags can override it.
    std::string config_path;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--config") {
            if (i + 1 >= args.size()) return invalid("--config needs a file");
            config_path = args[i + 1];
        } else if (args[i].rfind("--config=", 0) == 0) {
            config_path = args[i].substr(9);
        }
    }
    auto loaded = load_config(config_path.empty() ? std::nullopt : std::optional(config_path), read_file);
    if (!loaded) return loaded.error();
    out.config = std::move(loaded->config);

    std::vector<std::string> positional;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        std::string inline_value;
        bool has_inline = false;
        if (arg.rfind("--", 0) == 0) {
            if (auto eq = arg.find('='); eq != std::string::npos) {
                inline_value = arg.substr(eq + 1);
                arg.resize(eq);
                has_inline = true;
            }
        }
        auto value = [&]() -> Result<std::string> {
            if (has_inline) return inline_value;
            if (i + 1 >= args.size()) return invalid(arg + " needs a value");
            return args[++i];
        };
        if (arg == "-f" || arg == "--foreground") out.foreground = true;
        else if (arg == "-d" || arg == "--debug") out.debug = true;
        else if (arg == "-h" || arg == "--help") out.show_help = true;
        else if (arg == "--version") out.show_version = true;
        else if (arg == "--no-swap") out.config.swap = false;
        else if (arg == "--no-loadavg") out.config.loadavg = false;
        else if (arg == "--no-cpu-quota") out.config.cpu_quota = false;
        else if (arg == "--takeover") out.takeover = true;
        else if (arg == "--containers-only") out.containers_only = true;
        else if (arg == "--unmount") out.unmount = true;
        else if (arg == "--no-seccomp") out.config.seccomp = false;
        else if (arg == "--no-sysinfo") out.config.sysinfo = false;
        else if (arg == "--sysinfo-listener") {
            auto v = value();
            if (!v) return v.error();
            if (v->empty() || (*v)[0] != '/' || v->size() > 100)
                return invalid("--sysinfo-listener takes an absolute path of at most 100 characters");
            out.config.sysinfo_listener_path = *v;
        }
        else if (arg == "--config") { auto v = value(); if (!v) return v.error(); }
        else if (arg == "-p" || arg == "--pidfile") { auto v = value(); if (!v) return v.error(); out.pidfile = *v; }
        else if (arg == "--cgroup-root") { auto v = value(); if (!v) return v.error(); out.config.cgroup_root = *v; }
        else if (arg == "--proc-root") { auto v = value(); if (!v) return v.error(); out.config.proc_root = *v; }
        else if (arg == "--sys-cpu-root") { auto v = value(); if (!v) return v.error(); out.config.sys_cpu_root = *v; }
        else if (arg == "--log-file") { auto v = value(); if (!v) return v.error(); out.config.log_file = *v; }
        else if (arg == "--test-fixed-cgroup") { auto v = value(); if (!v) return v.error(); out.fixed_cgroup = *v; }
        else if (arg == "--threads") {
            auto v = value();
            if (!v) return v.error();
            auto n = parse_u64(*v);
            if (!n || *n > 64) return invalid("--threads takes a number from 0 to 64, not `" + *v + "`");
            out.config.threads = static_cast<unsigned>(*n);
        } else if (!arg.empty() && arg[0] == '-') {
            return invalid("unknown option `" + args[i] + "` (see --help)");
        } else {
            positional.push_back(arg);
        }
    }
    if (positional.size() > 1) return invalid("one mountpoint expected, got " + std::to_string(positional.size()));
    if (!positional.empty()) out.config.mountpoint = positional[0];
    if (out.debug) out.config.log_level = "debug";
    if (out.config.mountpoint.empty() || out.config.mountpoint[0] != '/')
        return invalid("the mountpoint must be an absolute path, not `" + out.config.mountpoint + "`");
    return out;
}

}  // namespace procview
