// procview-hook's job from the OCI state text to the exit status: parse the
// state and config.json, decide whether the container opted in, check that
// procviewfs is serving, mount the views, log what happened.
//
// Exit status (the runtime refuses the container on non-zero):
//   0  done; or not opted in; or procviewfs not serving / a mount failed
//      and fail_closed is false (the container starts with the host's views);
//   1  the input does not describe a container we can serve (empty or
//      malformed state, no or malformed config.json, unreadable bundle,
//      root.path escaping the bundle), or fail_closed and the views could
//      not be given.
// Targets the image does not have or that are not procfs/sysfs entries
// (symlinks, directories where files should be) are skipped with a logged
// reason and never fail the container.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "hook/inject.hpp"

namespace procview::hook {

struct RunOptions {
    std::string stage = "createRuntime";  // createRuntime | prestart, for the log
    bool debug = false;                   // log at debug instead of warn
    // The engine ran the hook because its hooks.d `when` matched
    // procview.io/enabled=true, possibly on the pod (CRI-O matches pod
    // annotations but does not copy them into the container's spec): a
    // container without the annotation counts as opted in; an explicit
    // value other than "true" still opts out.
    bool assume_enabled = false;
    InjectOptions inject;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;
inline constexpr int kExitUsage = 2;

int run_hook(std::string_view state_text, const Config& config, const RunOptions& options);

}  // namespace procview::hook
