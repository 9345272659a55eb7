#include "ctl/drop_ins.hpp"

#include "core/catalog.hpp"
#include "ctl/toml_edit.hpp"

namespace procview::ctl {

namespace {

// The drop-in's text: a header, then `table` rendered, checked by parsing it back.
Result<Wanted> drop_in(const FileState& file, std::string_view engine, const toml::table& table) {
    std::string text = "# Written by procview-ctl; `procview-ctl remove " + std::string(engine) +
                       "` deletes it.\n\n" + render_toml(table);
    auto check = parse_toml(text, file.path);
    if (!check || !(*check == table)) return invalid(file.path + ": the rendered drop-in does not parse back");
    return Wanted{{std::move(text)}, {}};
}

}  // namespace

std::vector<std::string> drop_in_files(const std::string& config_path) { return {config_path}; }

Result<Wanted> configure_crio(std::span<const FileState> files, const Settings& settings) {
    toml::table runtime{
        {"runtime_path", settings.runtime_path},
        {"runtime_type", "oci"},
        {"allowed_annotations", toml::array{std::string(kEnabledAnnotation), std::string(kFilesAnnotation)}},
    };
    toml::table crio_runtime{{"runtimes", toml::table{{kRuntimeName, std::move(runtime)}}}};
    if (settings.set_as_default) crio_runtime.insert("default_runtime", kRuntimeName);
    return drop_in(files[0], "crio", toml::table{{"crio", toml::table{{"runtime", std::move(crio_runtime)}}}});
}

Result<Wanted> configure_podman(std::span<const FileState> files, const Settings& settings) {
    toml::table engine{{"runtimes", toml::table{{kRuntimeName, toml::array{settings.runtime_path}}}}};
    if (settings.set_as_default) engine.insert("runtime", kRuntimeName);
    return drop_in(files[0], "podman", toml::table{{"engine", std::move(engine)}});
}

Result<Wanted> remove_drop_in(std::span<const FileState> files, const Settings&) {
    return Wanted{std::vector<std::optional<std::string>>(files.size()), {}};
}

}  // namespace procview::ctl
