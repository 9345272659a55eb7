#include "ctl/docker.hpp"

#include <nlohmann/json.hpp>

namespace procview::ctl {

namespace {

using Json = nlohmann::ordered_json;  // keeps the user's key order

Result<Json> load(const FileState& file) {
    if (!file.text || file.text->find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
    try {
        Json parsed = Json::parse(*file.text);
        if (!parsed.is_object()) return invalid(file.path + ": not a JSON object");
        if (parsed.contains("runtimes") && !parsed["runtimes"].is_object())
            return invalid(file.path + ": \"runtimes\" is not an object");
        return parsed;
    } catch (const Json::parse_error& e) {
        return invalid(file.path + ": " + e.what());
    }
}

// The indentation the file already uses (the first indented line), else 2.
int indent_of(const std::optional<std::string>& text) {
    if (!text) return 2;
    auto newline = text->find('\n');
    if (newline == std::string::npos) return 2;
    auto first = text->find_first_not_of(' ', newline + 1);
    if (first == std::string::npos || first == newline + 1) return 2;
    return static_cast<int>(first - newline - 1);
}

Json runtime_entry(const std::string& path) { return Json{{"path", path}, {"runtimeArgs", Json::array({kEnableArg})}}; }

bool is_ours(const Json& entry) {
    if (!entry.is_object() || !entry.contains("path") || entry.size() != 2) return false;
    auto args = entry.find("runtimeArgs");
    return args != entry.end() && *args == Json::array({kEnableArg});
}

// Unchanged → the text as it was; else dumped and checked by parsing it back.
Result<std::string> text_for(const FileState& file, const Json& before, const Json& after) {
    if (file.text && before == after) return *file.text;
    std::string text = after.dump(indent_of(file.text)) + "\n";
    if (Json::parse(text) != after) return invalid(file.path + ": the merged JSON does not parse back");
    return text;
}

}  // namespace

std::vector<std::string> docker_files(const std::string& config_path) { return {config_path}; }

Result<Wanted> configure_docker(std::span<const FileState> files, const Settings& settings) {
    auto before = load(files[0]);
    if (!before) return before.error();
    Json after = *before;
    after["runtimes"][std::string(kRuntimeName)] = runtime_entry(settings.runtime_path);
    if (settings.set_as_default) {
        after["default-runtime"] = kRuntimeName;
    } else if (after.contains("default-runtime") && after["default-runtime"] == kRuntimeName) {
        after.erase("default-runtime");
    }
    auto text = text_for(files[0], *before, after);
    if (!text) return text.error();
    return Wanted{{std::move(*text)}, {}};
}

Result<Wanted> remove_docker(std::span<const FileState> files, const Settings&) {
    if (!files[0].text) return Wanted{{std::nullopt}, {}};
    auto before = load(files[0]);
    if (!before) return before.error();
    Json after = *before;
    Wanted out;
    auto runtimes = after.find("runtimes");
    if (runtimes != after.end() && runtimes->contains(kRuntimeName)) {
        if (is_ours((*runtimes)[std::string(kRuntimeName)])) {
            runtimes->erase(std::string(kRuntimeName));
            if (runtimes->empty()) after.erase("runtimes");
        } else {
            out.notes.push_back(files[0].path + ": runtimes.procview was not written by procview-ctl; left as is");
        }
    }
    // A default naming a runtime that is gone would stop dockerd from starting.
    bool still_there = after.contains("runtimes") && after["runtimes"].contains(kRuntimeName);
    if (!still_there && after.contains("default-runtime") && after["default-runtime"] == kRuntimeName)
        after.erase("default-runtime");
    auto text = text_for(files[0], *before, after);
    if (!text) return text.error();
    out.texts.push_back(std::move(*text));
    return out;
}

}  // namespace procview::ctl
