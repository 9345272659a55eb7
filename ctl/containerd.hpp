// containerd (config version 2, containerd 1.6/1.7): procview as a CRI
// runtime in a drop-in file, imported from config.toml.
//
// containerd 1.6 and 1.7 merge an imported file by replacing each whole
// plugin section it names (containerd/containerd#5837; checked here with
// 1.6.20: a drop-in naming the CRI plugin reset config.toml's sandbox_image
// to the default). So the drop-in carries a copy of config.toml's
// [plugins."io.containerd.grpc.v1.cri"] table plus the procview runtime, the
// way nvidia-ctk's drop-ins do; re-running configure refreshes the copy.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "ctl/engine.hpp"

namespace procview::ctl {

inline constexpr std::string_view kCriPlugin = "io.containerd.grpc.v1.cri";

// [config.toml, <config dir>/conf.d/procview.toml]
std::vector<std::string> containerd_files(const std::string& config_path);

// config.toml gains an `imports` entry naming the drop-in (unless an entry or
// glob already covers it; `version = 2` is added to a file without version
// and without plugins); the drop-in is (re)written.
Result<Wanted> configure_containerd(std::span<const FileState> files, const Settings& settings);

// The drop-in goes; config.toml loses the imports entry naming it exactly.
Result<Wanted> remove_containerd(std::span<const FileState> files, const Settings& settings);

}  // namespace procview::ctl
