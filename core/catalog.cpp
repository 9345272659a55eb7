// Lookups over the view catalog (core/catalog.hpp).
#include "core/catalog.hpp"

#include <algorithm>

namespace procview {

const View* find_view(std::string_view name) {
    for (const auto& view : kViews)
        if (view.name == name) return &view;
    return nullptr;
}

const View& view_of(ProcFile file) {
    for (const auto& view : kViews)
        for (const auto& p : view.paths)
            if (view.kind == EntryKind::file && view.fs == TargetFs::procfs && p.file == file) return view;
    return kViews[0];  // unreachable: every ProcFile has a row (catalog_test)
}

const ViewPath& path_of(ProcFile file) {
    for (const auto& p : view_of(file).paths)
        if (p.file == file) return p;
    return kViews[0].paths[0];
}

std::string view_names() {
    std::string out;
    for (const auto& view : kViews) {
        if (!out.empty()) out += ' ';
        out += view.name;
    }
    return out;
}

std::vector<std::string> default_view_names() {
    std::vector<std::string> out;
    for (const auto& view : kViews)
        if (view.default_on) out.emplace_back(view.name);
    return out;
}

std::vector<std::string> split_view_names(std::string_view list) {
    std::vector<std::string> names;
    while (true) {
        auto sep = list.find_first_of(", \t\n");
        auto name = list.substr(0, sep);
        if (!name.empty()) names.emplace_back(name);
        if (sep == std::string_view::npos) break;
        list.remove_prefix(sep + 1);
    }
    return names;
}

}  // namespace procview
