// Engines configured by a drop-in file that procview-ctl owns whole: CRI-O
// (crio.conf.d) and podman (containers.conf.d). Both engines merge drop-ins
// key by key over their main file, so nothing else is touched.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "ctl/engine.hpp"

namespace procview::ctl {

// [the drop-in itself]
std::vector<std::string> drop_in_files(const std::string& config_path);

// CRI-O: [crio.runtime.runtimes.procview] runtime_path, runtime_type "oci",
// allowed_annotations (procview.io/enabled, procview.io/files);
// --set-as-default: [crio.runtime] default_runtime = "procview".
Result<Wanted> configure_crio(std::span<const FileState> files, const Settings& settings);

// podman (containers.conf): [engine.runtimes] procview = [runtime];
// --set-as-default: [engine] runtime = "procview".
Result<Wanted> configure_podman(std::span<const FileState> files, const Settings& settings);

// Deletes the drop-in (both engines).
Result<Wanted> remove_drop_in(std::span<const FileState> files, const Settings& settings);

}  // namespace procview::ctl
