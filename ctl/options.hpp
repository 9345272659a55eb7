// procview-ctl's command line, parsed without side effects.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "ctl/engine.hpp"

namespace procview::ctl {

enum class Action { configure, remove };

struct Options {
    bool help = false;          // --help: print usage(), nothing else
    bool version = false;       // --version: print the version, nothing else
    Action action = Action::configure;
    const Engine* engine = nullptr;
    Settings settings;
    bool dry_run = false;
    std::string root;                   // --root: prefix of the default paths
    std::optional<std::string> config;  // --config: used as given (not under --root)
};

// args: argv without the program name. Options may come anywhere, as
// `--name value` or `--name=value`.
Result<Options> parse_options(std::span<const std::string_view> args);

// The engine's first file: --config, else --root + the engine's default.
std::string config_path(const Options& options);

std::string usage();

}  // namespace procview::ctl
