#include "ctl/containerd.hpp"

#include <fnmatch.h>

#include "ctl/toml_edit.hpp"

namespace procview::ctl {

namespace {

constexpr std::string_view kDropInHeader =
    "# Written by procview-ctl; `procview-ctl remove containerd` deletes it.\n"
    "# containerd 1.6/1.7 replaces a whole plugin section with an imported file's,\n"
    "# so this file repeats config.toml's [plugins.\"io.containerd.grpc.v1.cri\"]\n"
    "# as it was when procview-ctl ran: after changing that section in\n"
    "# config.toml, run `procview-ctl configure containerd` again.\n";

std::string dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// containerd resolves a relative import against the importing file's directory
// and expands globs with filepath.Glob ('*' stops at '/').
bool import_covers(const std::string& entry, const std::string& config_path, const std::string& drop_in) {
    std::string full = entry.starts_with('/') ? entry : dir_of(config_path) + "/" + entry;
    return full == drop_in || ::fnmatch(full.c_str(), drop_in.c_str(), FNM_PATHNAME) == 0;
}

struct MainConfig {
    toml::table table;       // parsed, empty when the file is absent
    const toml::array* imports = nullptr;
};

Result<MainConfig> load_main(const FileState& file) {
    MainConfig main;
    if (!file.text) return main;
    auto parsed = parse_toml(*file.text, file.path);
    if (!parsed) return parsed.error();
    main.table = std::move(*parsed);
    if (const toml::node* v = main.table.get("version")) {
        auto version = v->value<int64_t>();
        if (!version || *version != 2)
            return invalid(file.path + ": config version " + render_toml_value(*v) +
                           " is not supported: procview-ctl writes containerd config version 2");
    } else if (main.table.contains("plugins")) {
        return invalid(file.path + ": no `version`, which containerd reads as version 1; "
                                   "set `version = 2` (procview-ctl writes version 2 configuration)");
    }
    if (const toml::node* imports = main.table.get("imports")) {
        main.imports = imports->as_array();
        if (!main.imports || (!main.imports->empty() && !main.imports->is_homogeneous(toml::node_type::string)))
            return invalid(file.path + ": `imports` is not a list of paths");
    }
    return main;
}

// runtimes.procview: the shape of config/containerd/procview-cri.toml, keeping
// the node's cgroup driver (SystemdCgroup) from the runc runtime when it sets one.
toml::table runtime_table(const toml::table& cri, const Settings& settings) {
    toml::table options{{"BinaryName", settings.runtime_path}};
    if (auto systemd = cri.at_path("containerd.runtimes.runc.options.SystemdCgroup").value<bool>())
        options.insert("SystemdCgroup", *systemd);
    return toml::table{
        {"runtime_type", "io.containerd.runc.v2"},
        {"pod_annotations", toml::array{"procview.io/*"}},
        {"container_annotations", toml::array{"procview.io/*"}},
        {"options", std::move(options)},
    };
}

Result<std::string> drop_in_text(const MainConfig& main, const std::string& main_path, const Settings& settings) {
    toml::table cri;
    const toml::table* plugins = main.table["plugins"].as_table();
    if (const toml::node* user = plugins ? plugins->get(kCriPlugin) : nullptr) {
        if (!user->is_table()) return invalid(main_path + ": the CRI plugin section is not a table");
        cri = *user->as_table();
    }
    auto containerd = sub_table(cri, "containerd", main_path);
    if (!containerd) return containerd.error();
    auto runtimes = sub_table(**containerd, "runtimes", main_path);
    if (!runtimes) return runtimes.error();
    (*runtimes)->insert_or_assign(kRuntimeName, runtime_table(cri, settings));
    if (settings.set_as_default) (*containerd)->insert_or_assign("default_runtime_name", kRuntimeName);
    toml::table drop_in{{"version", 2}, {"plugins", toml::table{{kCriPlugin, std::move(cri)}}}};
    std::string text = std::string(kDropInHeader) + "\n" + render_toml(drop_in);
    auto check = parse_toml(text, "the containerd drop-in");
    if (!check || !(*check == drop_in)) return invalid("the rendered containerd drop-in does not parse back");
    return text;
}

}  // namespace

std::vector<std::string> containerd_files(const std::string& config_path) {
    return {config_path, dir_of(config_path) + "/conf.d/procview.toml"};
}

Result<Wanted> configure_containerd(std::span<const FileState> files, const Settings& settings) {
    const FileState& main_file = files[0];
    const std::string& drop_in = files[1].path;
    auto main = load_main(main_file);
    if (!main) return main.error();
    Wanted out;
    toml::table wanted = main->table;
    if (!wanted.contains("version")) wanted.insert("version", 2);
    bool covered = false;
    if (main->imports)
        for (const auto& entry : *main->imports)
            covered = covered || import_covers(*entry.value<std::string>(), main_file.path, drop_in);
    if (!covered) {
        toml::array imports = main->imports ? *main->imports : toml::array{};
        imports.push_back(drop_in);
        wanted.insert_or_assign("imports", std::move(imports));
    }
    out.texts.push_back(rewrite_toml(main_file.text.value_or(""), main->table, wanted, main_file.path, out.notes));
    if (main->imports && main->imports->size() > (covered ? 1u : 0u))
        out.notes.push_back(main_file.path + " imports other files: if one of them also has a [plugins.\"" +
                            std::string(kCriPlugin) + "\"] section, containerd 1.6/1.7 keeps only the last one read; "
                            "check with `containerd config dump`");
    auto text = drop_in_text(*main, main_file.path, settings);
    if (!text) return text.error();
    out.texts.push_back(std::move(*text));
    return out;
}

Result<Wanted> remove_containerd(std::span<const FileState> files, const Settings&) {
    const FileState& main_file = files[0];
    const std::string& drop_in = files[1].path;
    Wanted out;
    if (!main_file.text) {
        out.texts = {std::nullopt, std::nullopt};
        return out;
    }
    auto main = load_main(main_file);
    if (!main) return main.error();
    toml::table wanted = main->table;
    if (main->imports) {
        toml::array kept;
        for (const auto& entry : *main->imports)
            if (*entry.value<std::string>() != drop_in) kept.push_back(entry);
        // Ours alone: configure added the key, so it goes whole.
        if (kept.size() == main->imports->size()) {
        } else if (kept.empty()) {
            wanted.erase("imports");
        } else {
            wanted.insert_or_assign("imports", std::move(kept));
        }
    }
    out.texts.push_back(rewrite_toml(*main_file.text, main->table, wanted, main_file.path, out.notes));
    out.texts.push_back(std::nullopt);
    return out;
}

}  // namespace procview::ctl
