// Docker: runtimes.procview (and default-runtime) merged into daemon.json,
// key by key, every other key and the keys' order kept.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "ctl/engine.hpp"

namespace procview::ctl {

// Docker before 24 has no --annotation, so procview-runtime is told to opt
// every container of this runtime in.
inline constexpr std::string_view kEnableArg = "--procview-enable";

// [daemon.json]
std::vector<std::string> docker_files(const std::string& config_path);

// runtimes.procview = {"path": runtime, "runtimeArgs": ["--procview-enable"]};
// "default-runtime": "procview" with --set-as-default, and without it a
// "default-runtime" of "procview" is taken away (the file says what the
// last configure asked for). A file already saying so is left byte for byte.
Result<Wanted> configure_docker(std::span<const FileState> files, const Settings& settings);

// runtimes.procview goes when it has the shape configure writes (any path),
// then an empty "runtimes", and "default-runtime" when it is "procview".
Result<Wanted> remove_docker(std::span<const FileState> files, const Settings& settings);

}  // namespace procview::ctl
