// TOML through toml++ (parse, render), and a small text editor for the
// top-level keys of a file that keeps everything else byte for byte:
// toml++ re-serialises whole documents and drops comments, so a change to
// one key of a user's config.toml is made on the text instead, then checked
// by parsing the result.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "core/result.hpp"

namespace procview::ctl {

// Parses `text`; the error names `name` and carries toml++'s message and
// position ("/etc/containerd/config.toml: line 3, column 7: ...").
Result<toml::table> parse_toml(std::string_view text, const std::string& name);

// The document as TOML text: double-quoted strings, tables unindented.
std::string render_toml(const toml::table& table);

// One value as TOML text (`["a", "b"]`, `2`, `"x"`).
std::string render_toml_value(const toml::node& value);

// Rewrites `text` so that it parses to `wanted`, where the text's table and
// `wanted` may differ only in top-level keys whose values are not
// tables: a changed value is replaced where it stands, a new key is inserted
// as a line before the first line that is not blank or a comment (so it
// belongs to the root table), a removed key's lines are deleted. Everything
// else, comments included, is kept byte for byte. The result is parsed and
// compared with `wanted`; an error when it does not match or the difference
// is elsewhere (then the caller may fall back to render_toml).
// (The text is parsed here: copies of toml++ tables lose their source
// positions.)
Result<std::string> edit_top_level(std::string_view text, const toml::table& wanted, const std::string& name);

// The text of a file that parsed to `original` and should now parse to
// `wanted`: `text` itself when they are equal, else edit_top_level's result,
// else (the change is not only top-level keys, or the edit did not verify)
// the whole table rendered by toml++, with a note in `notes` that comments
// and layout were not kept.
std::string rewrite_toml(std::string_view text, const toml::table& original, const toml::table& wanted,
                         const std::string& name, std::vector<std::string>& notes);

// table[key] as a table, created empty when absent; an error naming `where`
// when it holds something else.
Result<toml::table*> sub_table(toml::table& table, std::string_view key, const std::string& where);

}  // namespace procview::ctl
