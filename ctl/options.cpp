#include "ctl/options.hpp"

#include <vector>

namespace procview::ctl {

namespace {

// Splits "--name=value"; `value` empty when there is no '='.
std::pair<std::string_view, std::optional<std::string_view>> split_flag(std::string_view arg) {
    auto eq = arg.find('=');
    if (eq == std::string_view::npos) return {arg, std::nullopt};
    return {arg.substr(0, eq), arg.substr(eq + 1)};
}

// Applies the flag args[i]; a `--name value` flag consumes args[i + 1].
Result<void> apply_flag(Options& o, std::string_view arg, std::span<const std::string_view> args, size_t& i,
                        std::vector<std::string_view>& seen) {
    auto [name, inline_value] = split_flag(arg);
    auto value = [&]() -> Result<std::string> {
        if (inline_value) return std::string(*inline_value);
        if (i + 1 >= args.size()) return invalid(std::string(name) + " needs a value");
        return std::string(args[++i]);
    };
    seen.push_back(name);
    if (name == "--help" || name == "-h") o.help = true;
    else if (name == "--version") o.version = true;
    else if (name == "--dry-run") o.dry_run = true;
    else if (name == "--set-as-default") o.settings.set_as_default = true;
    else if (name == "--root" || name == "--config" || name == "--runtime-path") {
        auto v = value();
        if (!v) return v.error();
        if (v->empty() || (*v)[0] != '/') return invalid(std::string(name) + " needs an absolute path");
        if (name == "--root") o.root = *v == "/" ? "" : *v;
        else if (name == "--config") o.config = *v;
        else o.settings.runtime_path = *v;
    } else {
        return invalid("unknown option " + std::string(arg));
    }
    return {};
}

bool saw(const std::vector<std::string_view>& seen, std::string_view name) {
    for (auto s : seen)
        if (s == name) return true;
    return false;
}

Result<void> check_words(Options& o, const std::vector<std::string_view>& words,
                         const std::vector<std::string_view>& seen) {
    if (words.size() != 2) return invalid("expected `configure ENGINE` or `remove ENGINE`");
    if (words[0] == "configure") o.action = Action::configure;
    else if (words[0] == "remove") o.action = Action::remove;
    else return invalid("unknown command `" + std::string(words[0]) + "`");
    o.engine = find_engine(words[1]);
    if (!o.engine) return invalid("unknown engine `" + std::string(words[1]) + "` (containerd, docker, crio, podman)");
    if (o.action == Action::remove && (saw(seen, "--set-as-default") || saw(seen, "--runtime-path")))
        return invalid("remove takes no --set-as-default or --runtime-path");
    return {};
}

}  // namespace

Result<Options> parse_options(std::span<const std::string_view> args) {
    Options o;
    std::vector<std::string_view> words, seen;
    for (size_t i = 0; i < args.size(); ++i) {
        if (!args[i].starts_with('-')) {
            words.push_back(args[i]);
            continue;
        }
        auto applied = apply_flag(o, args[i], args, i, seen);
        if (!applied) return applied.error();
    }
    if (o.help || o.version) return o;
    auto checked = check_words(o, words, seen);
    if (!checked) return checked.error();
    return o;
}

std::string config_path(const Options& options) {
    if (options.config) return *options.config;
    return options.root + std::string(options.engine->default_config);
}

std::string usage() {
    return R"(usage: procview-ctl configure ENGINE [--dry-run] [--set-as-default] [--config PATH]
                                   [--runtime-path PATH] [--root DIR]
       procview-ctl remove ENGINE [--dry-run] [--config PATH] [--root DIR]

Registers procview-runtime as a runtime named "procview" with a container
engine, or takes it away again. ENGINE and the files written:
  containerd  /etc/containerd/conf.d/procview.toml (the runtime) and an
              `imports` entry for it in /etc/containerd/config.toml (version 2)
  docker      /etc/docker/daemon.json: runtimes.procview, with runtimeArgs
              ["--procview-enable"] (every container of the runtime opts in)
  crio        /etc/crio/crio.conf.d/99-procview.conf
  podman      /etc/containers/containers.conf.d/99-procview.conf; podman can
              use procview-hook's hooks.d entry instead (no runtime needed)

  --dry-run         print what would change as a unified diff, write nothing
  --set-as-default  make "procview" the engine's default runtime (a configure
                    without it makes procview not the default again)
  --config PATH     the engine's file (containerd: config.toml, whose directory
                    also holds conf.d/; others: the file above), used as given
  --runtime-path P  procview-runtime's path (default /usr/bin/procview-runtime)
  --root DIR        prefix for the default /etc paths (tests, images)
  --version         print procview-ctl's version

Running it twice changes nothing the second time. Every file changed is first
copied to FILE.procview-backup-<UTC time> (for a file in a DIR.d drop-in
directory: DIR.d.FILE.procview-backup-<UTC time>, beside the directory, so the
engine does not read the backup), then replaced atomically with its mode and
owner kept. Exit status: 0 done (or nothing to do), 1 error (nothing written
when a file does not parse), 2 usage.
)";
}

}  // namespace procview::ctl
