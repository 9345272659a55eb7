#include "ctl/toml_edit.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

namespace procview::ctl {

namespace {

constexpr toml::format_flags kFlags = toml::toml_formatter::default_flags &
                                      ~toml::format_flags::allow_literal_strings &
                                      ~toml::format_flags::indent_sub_tables;

// One replacement of the byte range [begin, end) of the original text.
struct Splice {
    size_t begin;
    size_t end;
    std::string replacement;
};

// Byte offset of the start of each line (1-based line n at index n-1).
std::vector<size_t> line_starts(std::string_view text) {
    std::vector<size_t> starts{0};
    for (size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n') starts.push_back(i + 1);
    return starts;
}

// toml++ positions count code points from 1; the text is UTF-8.
std::optional<size_t> byte_offset(std::string_view text, const std::vector<size_t>& starts,
                                  toml::source_position pos) {
    if (pos.line == 0 || pos.line > starts.size() || pos.column == 0) return std::nullopt;
    size_t at = starts[pos.line - 1];
    for (uint32_t col = 1; col < pos.column; ++col) {
        if (at >= text.size()) return std::nullopt;
        ++at;
        while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
    }
    return at;
}

bool only_space(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// After a value, the rest of its line may only be blanks and a comment.
bool only_space_or_comment(std::string_view s) {
    size_t first = s.find_first_not_of(" \t\r\n");
    return first == std::string_view::npos || s[first] == '#';
}

// Where a new root-level line goes: before the first line that holds a key or a header.
size_t first_content_line(std::string_view text, const std::vector<size_t>& starts) {
    for (size_t start : starts) {
        size_t end = text.find('\n', start);
        std::string_view line = text.substr(start, end == std::string_view::npos ? text.npos : end - start);
        if (!only_space_or_comment(line)) return start;
    }
    return text.size();
}

// toml++ compares tables and arrays but not bare nodes.
bool same_node(const toml::node& a, const toml::node& b) {
    if (a.type() != b.type()) return false;
    switch (a.type()) {
        case toml::node_type::table: return *a.as_table() == *b.as_table();
        case toml::node_type::array: return *a.as_array() == *b.as_array();
        case toml::node_type::string: return a.value<std::string>() == b.value<std::string>();
        case toml::node_type::integer: return a.value<int64_t>() == b.value<int64_t>();
        case toml::node_type::floating_point: return *a.as_floating_point() == *b.as_floating_point();
        case toml::node_type::boolean: return a.value<bool>() == b.value<bool>();
        case toml::node_type::date: return a.value<toml::date>() == b.value<toml::date>();
        case toml::node_type::time: return a.value<toml::time>() == b.value<toml::time>();
        case toml::node_type::date_time: return a.value<toml::date_time>() == b.value<toml::date_time>();
        default: return false;
    }
}

bool is_bare_key(std::string_view key) {
    return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

// The lines of `key = value` (value ending at `value_end`), newline included.
Result<Splice> delete_lines(std::string_view text, size_t key_at, size_t value_end, std::string_view key) {
    size_t line_begin = text.rfind('\n', key_at == 0 ? 0 : key_at - 1);
    line_begin = (key_at == 0 || line_begin == std::string_view::npos) ? 0 : line_begin + 1;
    size_t line_end = text.find('\n', value_end);
    line_end = line_end == std::string_view::npos ? text.size() : line_end + 1;
    if (!only_space(text.substr(line_begin, key_at - line_begin)) ||
        !only_space_or_comment(text.substr(value_end, line_end - value_end)))
        return invalid("`" + std::string(key) + "` shares its line with other settings");
    return Splice{line_begin, line_end, ""};
}

// The splice that turns key `key` from `before` (nullptr: absent) into `after`.
Result<Splice> splice_for(std::string_view text, const std::vector<size_t>& starts, const toml::key& key,
                          const toml::node* before, const toml::node* after) {
    if ((before && before->is_table()) || (after && after->is_table()))
        return invalid("`" + std::string(key.str()) + "` is a table");
    if (!before) {
        if (!is_bare_key(key.str())) return invalid("`" + std::string(key.str()) + "` is not a bare key");
        size_t at = first_content_line(text, starts);
        return Splice{at, at, std::string(key.str()) + " = " + render_toml_value(*after) + "\n"};
    }
    auto begin = byte_offset(text, starts, before->source().begin);
    auto end = byte_offset(text, starts, before->source().end);
    if (!begin || !end || *end < *begin) return invalid("no source position for `" + std::string(key.str()) + "`");
    if (after) return Splice{*begin, *end, render_toml_value(*after)};
    auto key_at = byte_offset(text, starts, key.source().begin);
    if (!key_at) return invalid("no source position for `" + std::string(key.str()) + "`");
    return delete_lines(text, *key_at, *end, key.str());
}

Result<std::vector<Splice>> splices(std::string_view text, const toml::table& original, const toml::table& wanted) {
    auto starts = line_starts(text);
    std::vector<Splice> out;
    for (auto&& [key, node] : original) {
        const toml::node* after = wanted.get(key.str());
        if (after && same_node(*after, node)) continue;
        auto s = splice_for(text, starts, key, &node, after);
        if (!s) return s.error();
        out.push_back(std::move(*s));
    }
    for (auto&& [key, node] : wanted) {
        if (original.contains(key.str())) continue;
        auto s = splice_for(text, starts, key, nullptr, &node);
        if (!s) return s.error();
        out.push_back(std::move(*s));
    }
    return out;
}

}  // namespace

Result<toml::table> parse_toml(std::string_view text, const std::string& name) {
    try {
        return toml::parse(text, name);
    } catch (const toml::parse_error& e) {
        std::ostringstream where;
        where << e.source().begin;
        return invalid(name + ": " + where.str() + ": " + std::string(e.description()));
    }
}

std::string render_toml(const toml::table& table) {
    std::ostringstream out;
    out << toml::toml_formatter(table, kFlags) << "\n";
    return out.str();
}

std::string render_toml_value(const toml::node& value) {
    std::ostringstream out;
    out << toml::toml_formatter(value, kFlags);
    return out.str();
}

Result<std::string> edit_top_level(std::string_view text, const toml::table& wanted, const std::string& name) {
    auto original = parse_toml(text, name);
    if (!original) return original.error();
    auto edits = splices(text, *original, wanted);
    if (!edits) return edits.error().context(name);
    // Back to front, so earlier offsets stay valid; inserts at one spot keep their order.
    std::stable_sort(edits->begin(), edits->end(), [](const Splice& a, const Splice& b) { return a.begin > b.begin; });
    std::string result(text);
    for (const Splice& s : *edits) result.replace(s.begin, s.end - s.begin, s.replacement);
    auto reparsed = parse_toml(result, name);
    if (!reparsed) return reparsed.error().context("edited text does not parse");
    if (!(*reparsed == wanted)) return invalid(name + ": the edited text does not parse to the wanted settings");
    return result;
}

std::string rewrite_toml(std::string_view text, const toml::table& original, const toml::table& wanted,
                         const std::string& name, std::vector<std::string>& notes) {
    if (original == wanted) return std::string(text);
    auto edited = edit_top_level(text, wanted, name);
    if (edited) return std::move(*edited);
    notes.push_back(name + ": rewritten by toml++, so its comments and layout are not kept (" +
                    edited.error().message + "); the original is kept in the backup");
    return render_toml(wanted);
}

Result<toml::table*> sub_table(toml::table& table, std::string_view key, const std::string& where) {
    if (toml::node* node = table.get(key)) {
        if (toml::table* t = node->as_table()) return t;
        return invalid(where + ": `" + std::string(key) + "` is not a table");
    }
    auto [it, inserted] = table.insert(key, toml::table{});
    (void)inserted;
    return it->second.as_table();
}

}  // namespace procview::ctl
