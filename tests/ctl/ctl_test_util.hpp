// Helpers shared by procview-ctl's unit tests.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ctl/engine.hpp"
#include "ctl/toml_edit.hpp"

namespace procview::ctl::test {

// Runs an editor and requires success.
inline Wanted edit(Editor editor, const std::vector<FileState>& files, const Settings& settings = {}) {
    auto wanted = editor(files, settings);
    if (!wanted) FAIL(wanted.error().message);
    REQUIRE(wanted->texts.size() == files.size());
    return *wanted;
}

// The files with the editor's answer as their new text (for a second run).
inline std::vector<FileState> after(const std::vector<FileState>& files, const Wanted& wanted) {
    std::vector<FileState> out = files;
    for (size_t i = 0; i < out.size(); ++i) out[i].text = wanted.texts[i];
    return out;
}

inline toml::table parsed(const std::optional<std::string>& text) {
    REQUIRE(text.has_value());
    auto t = parse_toml(*text, "test");
    if (!t) FAIL(t.error().message);
    return *t;
}

}  // namespace procview::ctl::test
