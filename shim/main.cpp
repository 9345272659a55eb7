// procview-runtime: a drop-in runc/crun for containerd, Docker and BuildKit
// that turns procview on for the containers it creates.
//
//   # containerd (ctr) for one container
//   $ ctr run --rootfs --runc-binary /usr/local/bin/procview-runtime
//       --annotation procview.io/enabled=true --memory-limit 268435456 /srv/rootfs web sh
//   # Docker: daemon.json "runtimes": {"procview": {"path": "/usr/local/bin/procview-runtime",
//   #                                   "runtimeArgs": ["--procview-enable"]}}
//   $ docker run --runtime procview ...        # every container of that runtime is opted in
//   # directly, the way BuildKit calls runc
//   $ procview-runtime --procview-config ./procview.json run --bundle /srv/bundle --keep web
//
// For create, run and restore it edits the bundle's config.json (adds
// procview-hook, or bind mounts in "mounts" mode) when the container opted
// in; for create and run of such a container it also makes a time namespace
// (so ps start times are right inside; runtime.time_namespace), and every
// call naming an existing container runs in the time namespace it made for
// that container, never another (time_namespace.hpp). Then, for every call, it execve()s the real runtime with the same
// arguments (minus --procview-config), environment and file descriptors, so
// the exit status is the runtime's. A problem with procview's own setup is
// logged to the runtime's --log and the container starts without procview,
// unless runtime.fail_closed.
#include <algorithm>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "platform/fs.hpp"
#include "shim/bundle_edit.hpp"
#include "shim/real_runtime.hpp"
#include "shim/runc_args.hpp"
#include "shim/runtime_log.hpp"
#include "shim/time_namespace.hpp"
#include "shim/time_namespace_io.hpp"

namespace {

using namespace procview;
using namespace procview::shim;

constexpr int kExitSetupRefused = 1;    // fail_closed and procview could not be set up
constexpr int kExitUsage = 2;           // our own options are wrong
constexpr int kExitCannotExec = 126;    // the real runtime exists but execve failed
constexpr int kExitNoRuntime = 127;     // no real runtime to hand over to

std::string current_dir() {
    char buf[PATH_MAX];
    if (::getcwd(buf, sizeof buf) == nullptr) return ".";
    return buf;
}

std::string absolute(const std::string& path) {
    if (path.starts_with('/')) return path;
    return current_dir() + "/" + path;
}

// --procview-config, else $PROCVIEW_CONFIG, else the default file (core's
// load_config). The path is made absolute: it is passed on to the hook.
Result<LoadedConfig> load_config(const RuncCommandLine& cmd) {
    std::optional<std::string> named = cmd.procview_config;
    if (const char* env = std::getenv("PROCVIEW_CONFIG"); !named && env && *env) named = env;
    auto loaded = procview::load_config(named, [](const std::string& p) { return read_file(p); });
    if (loaded && !loaded->path.empty()) loaded->path = absolute(loaded->path);
    return loaded;
}

std::string describe_call(const RuncCommandLine& cmd) {
    std::string out = cmd.subcommand;
    if (cmd.container_id) out += " " + *cmd.container_id;
    return out;
}

struct BundleDecision {
    bool proceed = true;                // false: refuse the call (fail_closed)
    bool wants_time_namespace = false;  // procview is set up and the spec makes no time namespace itself
};

// Edits the bundle for create/run/restore. Refuses only under fail_closed;
// every other problem is logged and the container starts unchanged.
BundleDecision prepare_bundle(const RuncCommandLine& cmd, const LoadedConfig& loaded, RuntimeLog& log) {
    std::string cwd = current_dir();
    std::string spec_file = spec_path(cmd, cwd);
    std::string who = "procview: " + describe_call(cmd) + ": ";
    bool creates = cmd.subcommand == "create" || cmd.subcommand == "run";
    SysinfoRequest sysinfo{creates && cmd.container_id.has_value(), cmd.container_id.value_or("")};
    auto outcome = edit_bundle_spec(spec_file, loaded.config, loaded.path, sysinfo);
    if (!outcome) {
        if (loaded.config.runtime.fail_closed) {
            log.error(who + outcome.error().describe() + "; refusing the container (runtime.fail_closed)");
            return {false, false};
        }
        log.warning(who + outcome.error().describe() + "; starting the container without procview");
        return {true, false};
    }
    log.info(who + outcome->summary);
    for (const auto& note : outcome->notes) log.info(who + note);
    if (outcome->opted_in && outcome->spec_has_time_namespace)
        log.info(who + "the spec asks for a time namespace itself; left to the runtime");
    return {true, outcome->opted_in && !outcome->spec_has_time_namespace};
}

// Where procview-runtime records the time namespace it made for the
// container the call names; nullopt when it cannot tell (no id, no root).
std::optional<std::string> record_path_for(const RuncCommandLine& cmd, const std::string& runtime) {
    if (!cmd.container_id) return std::nullopt;
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    return time_namespace_record_path(cmd.root, *cmd.container_id, runtime, ::geteuid() == 0,
                                      xdg ? std::optional<std::string>(xdg) : std::nullopt);
}

// create/run: the container (and the runtime creating it) in a new time
// namespace. A failure only costs the right ps start times.
void make_time_namespace(const RuncCommandLine& cmd, const std::string& runtime, RuntimeLog& log) {
    std::string who = "procview: " + describe_call(cmd) + ": ";
    auto record = record_path_for(cmd, runtime);
    if (!record) {
        // Later calls could not recognise the namespace, so they would take the container for stopped.
        return log.warning(who + "no container id or state root to record a time namespace under; the container "
                                 "runs without one");
    }
    auto made = enter_new_time_namespace(*record);
    if (made) return log.info(who + *made);
    std::string msg = made.error().describe() + "; the container runs without a time namespace (ps start times "
                                                "inside will be off by its start)";
    // A kernel without time namespaces is a fact of the machine, not a fault to alarm about on every create.
    if (made.error().errnum == ENOENT) log.info(who + msg);
    else log.warning(who + msg);
}

// Every call on an existing container runs in the time namespace
// procview-runtime made for it, whether or not this configuration makes
// them (see time_namespace.hpp: the runtime would otherwise take it for
// stopped). `delete` then drops the record once the container is surely gone.
void join_time_namespace(const RuncCommandLine& cmd, const std::string& runtime, RuntimeLog& log) {
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    auto candidates = state_file_candidates(cmd.root, *cmd.container_id, runtime, ::geteuid() == 0,
                                            xdg ? std::optional<std::string>(xdg) : std::nullopt);
    auto record = record_path_for(cmd, runtime);
    if (!record) return;
    std::string who = "procview: " + describe_call(cmd) + ": ";
    using Outcome = TimeNamespaceJoin::Outcome;
    auto joined = join_container_time_namespace(candidates, *record);
    if (!joined) log.warning(who + joined.error().describe() + "; running outside the container's time namespace");
    else if (joined->outcome == Outcome::not_ours) log.warning(who + joined->detail);
    else if (!joined->detail.empty()) log.debug(who + joined->detail);

    // A delete that fails (a running container, no --force) must keep the
    // record, or later calls would take the container for stopped.
    bool gone = joined && joined->outcome == Outcome::none;
    if (cmd.subcommand == "delete" && (gone || delete_is_forced(cmd.runtime_args, *cmd.subcommand_index)))
        if (auto removed = remove_time_namespace_record(*record); !removed) log.warning(who + removed.error().describe());
}

bool is_version_query(const std::vector<std::string>& args) {
    return std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--version" || a == "-v"; });
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto cmd = parse_runc_command_line(args);
    if (!cmd) {
        std::string msg = "procview-runtime: " + cmd.error().describe() + "\n";
        (void)!::write(STDERR_FILENO, msg.data(), msg.size());
        return kExitUsage;
    }
    RuntimeLog log(cmd->log_path, parse_log_format(cmd->log_format), cmd->debug);

    auto loaded = load_config(*cmd);
    if (!loaded) {
        // Only calls that create a container lose something; the rest would repeat it in every state/kill.
        std::string msg = "procview: " + loaded.error().describe() + "; procview is off for this call";
        if (subcommand_reads_bundle(cmd->subcommand)) log.warning(msg);
        else log.debug(msg);
    }

    // The runtime's registration is the opt-in (Docker: runtimeArgs), for engines without annotations.
    if (loaded && cmd->procview_enable) loaded->config.runtime.enable_all = true;

    const char* path_env = std::getenv("PATH");
    auto runtime = find_real_runtime(loaded ? loaded->config.runtime.runtime : "",
                                     path_env ? path_env : kDefaultPath, "/proc/self/exe");
    if (!runtime) {
        log.error("procview: " + runtime.error().describe());
        return kExitNoRuntime;
    }

    if (loaded && subcommand_reads_bundle(cmd->subcommand)) {
        auto decision = prepare_bundle(*cmd, *loaded, log);
        if (!decision.proceed) return kExitSetupRefused;
        bool creates = cmd->subcommand == "create" || cmd->subcommand == "run";
        if (creates && decision.wants_time_namespace && loaded->config.runtime.time_namespace)
            make_time_namespace(*cmd, *runtime, log);
    }
    if (subcommand_joins_container(cmd->subcommand) && cmd->container_id) join_time_namespace(*cmd, *runtime, log);
    if (!subcommand_reads_bundle(cmd->subcommand))
        log.debug("procview: " + describe_call(*cmd) + ": passed through to " + *runtime);

    if (cmd->subcommand.empty() && is_version_query(cmd->runtime_args)) {
        // Ours, then the runtime's own lines: Docker parses those and keeps
        // the last line that names a version, the runtime's.
        std::string line = std::string("procview-runtime version ") + PROCVIEW_VERSION + " (runs " + *runtime + ")\n";
        (void)!::write(STDOUT_FILENO, line.data(), line.size());
    }
    std::vector<char*> exec_argv;
    exec_argv.push_back(runtime->data());
    for (auto& arg : cmd->runtime_args) exec_argv.push_back(arg.data());
    exec_argv.push_back(nullptr);
    ::execve(runtime->c_str(), exec_argv.data(), environ);

    int saved = errno;
    log.error("procview: execve `" + *runtime + "`: " + std::strerror(saved));
    return saved == ENOENT ? kExitNoRuntime : kExitCannotExec;
}
