#include "hook/hook.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <spdlog/sinks/syslog_sink.h>

#include "hook/mount_plan.hpp"
#include "hook/oci_state.hpp"
#include "platform/fs.hpp"
#include "platform/health.hpp"
#include "platform/logging.hpp"

namespace procview::hook {

namespace {

// The id goes into spdlog's pattern, where '%' starts a flag.
std::string pattern_escaped(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '%') out += '%';
        out += c;
    }
    return out;
}

// The log plus one plain stderr line for problems: a runtime shows a failing
// hook's stderr to the user, while the log may be a file or syslog.
class HookLog {
public:
    HookLog(const std::string& log_file, bool debug, const std::string& container_id) {
        const std::string level = debug ? "debug" : "warn";
        const std::string prefix = container_id.empty() ? "" : "[" + pattern_escaped(container_id) + "] ";
        if (log_file == "syslog") {
            logger_ = std::make_shared<spdlog::logger>(
                "procview-hook", std::make_shared<spdlog::sinks::syslog_sink_mt>("procview-hook", LOG_PID, LOG_DAEMON, true));
            logger_->set_pattern(prefix + "%v");
            logger_->set_level(spdlog::level::from_str(level));
        } else {
            logger_ = make_logger("procview-hook", log_file, level, prefix);
        }
        also_stderr_ = !log_file.empty();
        stderr_prefix_ = "procview-hook: " + (container_id.empty() ? "" : container_id + ": ");
    }
    ~HookLog() { logger_->flush(); }
    HookLog(const HookLog&) = delete;
    HookLog& operator=(const HookLog&) = delete;

    spdlog::logger& log() { return *logger_; }

    void warn(const std::string& message) { problem(spdlog::level::warn, "warning: ", message); }
    void error(const std::string& message) { problem(spdlog::level::err, "error: ", message); }

private:
    void problem(spdlog::level::level_enum level, const char* label, const std::string& message) {
        logger_->log(level, "{}", message);
        if (also_stderr_) std::fprintf(stderr, "%s%s%s\n", stderr_prefix_.c_str(), label, message.c_str());
    }

    std::shared_ptr<spdlog::logger> logger_;
    bool also_stderr_ = false;
    std::string stderr_prefix_;
};

// Points the plan at the container's own files (hook.per_container), from
// hook.containers_mountpoint if it serves them, else from the main mount; if
// neither does (a procviewfs without containers/), the shared files stay.
// Named by the pid alias, which procviewfs resolves to <pid>-<start ticks>:
// the start time /proc shows the hook is shifted by the hook's own time
// namespace (procview-runtime runs runc, and so its hooks, in the
// container's), while procviewfs reads it in the host's.
void choose_container_files(MountPlan& plan, const Config& config, int pid, Deadline deadline, HookLog& log) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return;  // gone: inject_mounts says so, in one line
    const std::string alias = "pid-" + std::to_string(pid);
    const std::string probe = "containers/" + alias + "/proc/uptime";
    const auto timeout = std::chrono::milliseconds(config.hook.health_timeout_ms);
    for (const std::string& mount : {config.hook.containers_mountpoint, config.mountpoint}) {
        if (mount.empty()) continue;
        auto served = check_procview_serving(mount, probe, timeout, deadline);
        if (served) return use_container_files(plan, alias, mount == config.mountpoint ? "" : mount);
        const std::string why = "per-container files at " + mount + ": " + error_text(served.error());
        // No --containers-only instance installed (the default names one):
        // the main mount's files are the plan, not a problem.
        if (mount != config.mountpoint && is_not_mounted(served.error())) log.log().info("{}", why);
        else log.warn(why);
    }
    log.warn("binding the shared proc/ files");
}

double elapsed_ms(const RunOptions& options) {
    auto d = std::chrono::steady_clock::now() - options.started;
    return std::chrono::duration<double, std::milli>(d).count();
}

// The container cannot get its views: refuse it under fail_closed, else let
// it start with the host's files and say so.
int cannot_serve(HookLog& log, const Config& config, const std::string& why) {
    if (config.hook.fail_closed) {
        log.error("refusing the container (hook.fail_closed): " + why);
        return kExitRefused;
    }
    log.warn(why + "; the container starts with the host's views");
    return kExitOk;
}

std::string outcome_line(const MountResult& r) {
    switch (r.outcome) {
    case Outcome::mounted: return "mounted /" + r.mount.target;
    case Outcome::absent:
    case Outcome::skipped: return "skipped /" + r.mount.target + ": " + r.reason;
    case Outcome::failed: return "failed /" + r.mount.target + ": " + r.reason;
    }
    return {};
}

// <bundle>/config.json, parsed; the Error's message is the one-line reason.
Result<BundleConfig> load_bundle(const OciState& state) {
    const std::string config_path = state.bundle + "/config.json";
    auto text = read_file(config_path);
    if (!text) {
        const int err = text.error().errnum;
        if (err == ENOENT) return invalid("no config.json in the bundle `" + state.bundle + "`");
        return invalid("cannot read `" + config_path + "`: " + std::strerror(err));
    }
    return parse_bundle_config(*text, state.bundle);
}

// Logs each outcome at the level it deserves; returns how many failed.
std::size_t log_results(HookLog& log, const std::vector<MountResult>& results) {
    std::size_t failed = 0;
    for (const auto& r : results) {
        switch (r.outcome) {
        case Outcome::mounted: log.log().debug("{}", outcome_line(r)); break;
        case Outcome::absent: log.log().info("{}", outcome_line(r)); break;  // no /proc/pressure: normal
        case Outcome::skipped: log.warn(outcome_line(r)); break;  // a symlink, a wrong type: someone should look
        case Outcome::failed:
            ++failed;
            log.error(outcome_line(r));
            break;
        }
    }
    return failed;
}

int serve(const OciState& state, const Config& config, const RunOptions& options, HookLog& log) {
    // The state repeats config.json's annotations: when it settles the
    // question, a container that did not opt in costs no file read.
    if (auto enabled = annotation(state.annotations, {}, kEnabledAnnotation); enabled && *enabled != "true") {
        log.log().debug("{} is \"{}\": nothing to do", kEnabledAnnotation, *enabled);
        return kExitOk;
    }
    auto bundle = load_bundle(state);
    if (!bundle) {
        log.error(error_text(bundle.error()));
        return kExitRefused;
    }
    const auto enabled = annotation(state.annotations, bundle->annotations, kEnabledAnnotation);
    if (enabled ? !opted_in(state.annotations, bundle->annotations) : !options.assume_enabled) {
        log.log().debug("{} not set to \"true\": nothing to do", kEnabledAnnotation);
        return kExitOk;
    }

    HostFacts host;
    host.pure_cgroup_v2 = ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
    auto plan = plan_mounts(annotation(state.annotations, bundle->annotations, kFilesAnnotation), config.hook.files, host);
    for (const auto& note : plan.notes) log.log().info("{}", note);
    if (plan.mounts.empty()) {
        log.log().info("no view to mount");
        return kExitOk;
    }

    const Deadline deadline = options.started + std::chrono::milliseconds(config.hook.timeout_ms);
    auto health =
        check_procview_serving(config.mountpoint, std::chrono::milliseconds(config.hook.health_timeout_ms), deadline);
    if (!health) return cannot_serve(log, config, "procviewfs is not serving: " + error_text(health.error()));
    log.log().debug("procviewfs serves at {} ({:.1f} ms)", config.mountpoint, elapsed_ms(options));
    // The init's own files: its cgroup, however its pid namespace is shared.
    if (config.hook.per_container) choose_container_files(plan, config, state.pid, deadline, log);

    auto results = inject_mounts(state.pid, bundle->rootfs, config.mountpoint, plan.mounts, options.inject, deadline);
    if (!results) return cannot_serve(log, config, error_text(results.error()));
    const std::size_t failed = log_results(log, *results);
    const auto mounted = std::count_if(results->begin(), results->end(),
                                       [](const MountResult& r) { return r.outcome == Outcome::mounted; });
    log.log().info("{}: mounted {} of {} views into {} in {:.1f} ms", options.stage, mounted, results->size(),
                   bundle->rootfs, elapsed_ms(options));
    if (failed > 0 && config.hook.fail_closed) {
        log.error("refusing the container (hook.fail_closed): " + std::to_string(failed) + " view(s) failed to mount");
        return kExitRefused;
    }
    return kExitOk;
}

}  // namespace

int run_hook(std::string_view state_text, const Config& config, const RunOptions& options) {
    auto state = parse_oci_state(state_text);
    if (!state) {
        HookLog log(config.hook.log_file, options.debug, "");
        log.error(error_text(state.error()));
        return kExitRefused;
    }
    HookLog log(config.hook.log_file, options.debug, state->id);
    log.log().debug("{} hook: status {}, pid {}, bundle {}", options.stage, state->status, state->pid, state->bundle);
    const int status = serve(*state, config, options, log);
    log.log().debug("{} hook done in {:.1f} ms, exit {}", options.stage, elapsed_ms(options), status);
    return status;
}

}  // namespace procview::hook
