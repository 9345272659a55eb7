// procview-ctl's engines: one table row per container engine, each with the
// files it owns and two pure editors (configure, remove) that map the files'
// current text to the wanted text. Nothing here touches the file system; the
// I/O edge (apply.hpp) reads the files, calls an editor, and writes the result.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace procview::ctl {

inline constexpr std::string_view kRuntimeName = "procview";
inline constexpr std::string_view kDefaultRuntimePath = "/usr/bin/procview-runtime";

// What the user asked for, independent of the engine.
struct Settings {
    std::string runtime_path{kDefaultRuntimePath};
    bool set_as_default = false;
};

// One file as it is now: its absolute path (already under --root) and its
// text, nullopt when it does not exist.
struct FileState {
    std::string path;
    std::optional<std::string> text;
};

// An editor's answer: the wanted text of each file, in the order of the
// engine's files (nullopt = the file should not exist), plus notes for the
// user (e.g. "comments were not kept").
struct Wanted {
    std::vector<std::optional<std::string>> texts;
    std::vector<std::string> notes;
};

// Pure: never reads or writes files; parse errors name the file.
using Editor = Result<Wanted> (*)(std::span<const FileState> files, const Settings& settings);

struct Engine {
    std::string_view name;
    // The file --config replaces (before --root is applied).
    std::string_view default_config;
    // Every file the engine touches, derived from the config path. The file
    // that refers to the others comes first: configure writes the list back
    // to front and remove front to back, so a reference never points at a
    // file that is missing.
    std::vector<std::string> (*files)(const std::string& config_path);
    Editor configure;
    Editor remove;
    // Printed after a change: how to make the engine read it.
    std::string_view reload_hint;
};

// The table of engines, and a lookup by name (nullptr when unknown).
std::span<const Engine> engines();
const Engine* find_engine(std::string_view name);

}  // namespace procview::ctl
