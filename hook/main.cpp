// procview-hook: an OCI runtime hook that mounts procviewfs's views into a
// container that opted in with the annotation procview.io/enabled=true.
//
//   # registered in config.json ("hooks": {"createRuntime": [{"path": ".../procview-hook",
//   #   "args": ["procview-hook", "createRuntime"]}]}) or through hooks.d; by hand:
//   $ echo '{"ociVersion":"1.0.2","id":"web","status":"creating","pid":4242,
//   >        "bundle":"/run/web","annotations":{"procview.io/enabled":"true"}}' |
//   >   procview-hook --config /etc/procview/procview.json --debug createRuntime
//   2025-01-01T10:00:00.001 procview-hook[4250] info: [web] createRuntime: mounted 11 of 12 views into /run/web/rootfs in 3.2 ms
//   $ echo '' | procview-hook; echo $?
//   procview-hook: error: OCI state on stdin is empty
//   1
//
// Options (the runtime passes only the stage; the rest is for operators and tests):
//   --config FILE     procview.json (default /etc/procview/procview.json; a missing default file means defaults)
//   --debug           log at debug level instead of warn
//   --assume-enabled  no procview.io/enabled annotation counts as "true" (the hooks.d entry's
//                     `when` already matched it, maybe on the pod: CRI-O does not copy pod annotations)
//   --mount-api new|legacy|auto, --resolve openat2|walk|auto   force a code path (tests, old kernels)
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "hook/hook.hpp"
#include "hook/oci_state.hpp"
#include "platform/bounded_child.hpp"
#include "platform/fs.hpp"

namespace {

using namespace procview;

constexpr std::size_t kMaxStateBytes = 1 << 20;  // a state is a few hundred bytes; refuse to buffer a flood

constexpr const char* kUsage =
    "usage: procview-hook [--config FILE] [--debug] [--assume-enabled] [--mount-api new|legacy|auto]\n"
    "                     [--resolve openat2|walk|auto]\n"
    "                     [createRuntime|prestart]   (OCI state JSON on stdin)\n";

int usage_error(const std::string& message) {
    std::fprintf(stderr, "procview-hook: %s\n%s", message.c_str(), kUsage);
    return hook::kExitUsage;
}

struct Args {
    std::string config_path;
    bool config_given = false;
    hook::RunOptions run;
};

// Parses argv; an Error's message is printed with the usage text.
Result<Args> parse_args(int argc, char** argv) {
    Args args;
    bool stage_seen = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&](std::string_view name) -> Result<std::string> {
            if (i + 1 >= argc) return invalid(std::string(name) + " needs a value");
            return std::string(argv[++i]);
        };
        if (a == "--config") {
            auto v = value(a);
            if (!v) return v.error();
            args.config_path = *v;
            args.config_given = true;
        } else if (a == "--debug") {
            args.run.debug = true;
        } else if (a == "--assume-enabled") {
            args.run.assume_enabled = true;
        } else if (a == "--mount-api") {
            auto v = value(a);
            if (!v) return v.error();
            if (*v == "new") args.run.inject.api = hook::MountApi::new_api;
            else if (*v == "legacy") args.run.inject.api = hook::MountApi::legacy;
            else if (*v == "auto") args.run.inject.api = hook::MountApi::automatic;
            else return invalid("unknown --mount-api `" + *v + "`");
        } else if (a == "--resolve") {
            auto v = value(a);
            if (!v) return v.error();
            if (*v == "openat2") args.run.inject.resolve = hook::ResolveMethod::openat2;
            else if (*v == "walk") args.run.inject.resolve = hook::ResolveMethod::walk;
            else if (*v == "auto") args.run.inject.resolve = hook::ResolveMethod::automatic;
            else return invalid("unknown --resolve `" + *v + "`");
        } else if ((a == "createRuntime" || a == "prestart") && !stage_seen) {
            args.run.stage = std::string(a);
            stage_seen = true;
        } else {
            return invalid("unexpected argument `" + std::string(a) + "`");
        }
    }
    return args;
}

// The configuration (core's load_config): the given file, else the default
// file, else the defaults.
Result<Config> load_config(const Args& args) {
    auto loaded = procview::load_config(args.config_given ? std::optional(args.config_path) : std::nullopt,
                                        [](const std::string& p) { return read_file(p); });
    if (!loaded) return loaded.error();
    return std::move(loaded->config);
}

// Until EOF, or `deadline`: a runtime writes the state and closes the pipe.
Result<std::string> read_stdin(Deadline deadline) {
    std::string out;
    char buf[8192];
    for (;;) {
        struct pollfd pfd {STDIN_FILENO, POLLIN, 0};
        int ready = ::poll(&pfd, 1, static_cast<int>(ms_left(deadline)));
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) return make_error(ETIMEDOUT, "read the OCI state from stdin: no end of input");
        ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return make_error(errno, "read the OCI state from stdin");
        if (n == 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > kMaxStateBytes) return invalid("OCI state on stdin is larger than 1 MiB");
    }
}

}  // namespace

int main(int argc, char** argv) {
    const auto started = std::chrono::steady_clock::now();
    if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (argc == 2 && std::string_view(argv[1]) == "--version") {
        std::puts("procview-hook " PROCVIEW_VERSION);
        return 0;
    }
    auto args = parse_args(argc, argv);
    if (!args) return usage_error(args.error().message);
    args->run.started = started;

    auto config = load_config(*args);
    if (!config) {
        std::fprintf(stderr, "procview-hook: error: %s\n", hook::error_text(config.error()).c_str());
        return hook::kExitRefused;
    }
    auto state = read_stdin(started + std::chrono::milliseconds(config->hook.timeout_ms));
    if (!state) {
        std::fprintf(stderr, "procview-hook: error: %s\n", hook::error_text(state.error()).c_str());
        return hook::kExitRefused;
    }
    return hook::run_hook(*state, *config, args->run);
}
