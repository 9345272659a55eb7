#include "ctl/diff.hpp"

#include <algorithm>
#include <span>
#include <vector>

namespace procview::ctl {

namespace {

constexpr size_t kContext = 3;
// Above this many cells the middle is shown as removed-then-added instead of
// running the quadratic LCS (config files are far smaller).
constexpr size_t kMaxCells = 4'000'000;

struct Op {
    char kind;  // ' ', '-', '+'
    std::string_view line;
};

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

// LCS of a[0..n) and b[0..m) turned into an edit script.
void diff_middle(std::span<const std::string_view> a, std::span<const std::string_view> b, std::vector<Op>& ops) {
    size_t n = a.size(), m = b.size();
    if (n * m > kMaxCells) {
        for (auto l : a) ops.push_back({'-', l});
        for (auto l : b) ops.push_back({'+', l});
        return;
    }
    std::vector<size_t> lcs((n + 1) * (m + 1), 0);  // lcs[i*(m+1)+j]: of a[i..), b[j..)
    for (size_t i = n; i-- > 0;)
        for (size_t j = m; j-- > 0;)
            lcs[i * (m + 1) + j] = a[i] == b[j] ? lcs[(i + 1) * (m + 1) + j + 1] + 1
                                                : std::max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1]);
    size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a[i] == b[j]) {
            ops.push_back({' ', a[i++]});
            ++j;
        } else if (i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1])) {
            ops.push_back({'-', a[i++]});  // removals first, as diff -u prints them
        } else {
            ops.push_back({'+', b[j++]});
        }
    }
}

std::vector<Op> edit_script(std::span<const std::string_view> a, std::span<const std::string_view> b) {
    size_t prefix = 0;
    while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
    size_t suffix = 0;
    while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
           a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
        ++suffix;
    std::vector<Op> ops;
    for (size_t k = 0; k < prefix; ++k) ops.push_back({' ', a[k]});
    diff_middle(a.subspan(prefix, a.size() - prefix - suffix), b.subspan(prefix, b.size() - prefix - suffix), ops);
    for (size_t k = a.size() - suffix; k < a.size(); ++k) ops.push_back({' ', a[k]});
    return ops;
}

std::string range(size_t start, size_t count) {
    // diff -u: an empty range names the line before it.
    return std::to_string(count == 0 ? start - 1 : start) + "," + std::to_string(count);
}

// One hunk: ops[first..last), with the line numbers where it starts.
void write_hunk(std::string& out, const std::vector<Op>& ops, size_t first, size_t last, size_t old_line,
                size_t new_line) {
    size_t old_count = 0, new_count = 0;
    for (size_t k = first; k < last; ++k) {
        old_count += ops[k].kind != '+';
        new_count += ops[k].kind != '-';
    }
    out += "@@ -" + range(old_line, old_count) + " +" + range(new_line, new_count) + " @@\n";
    for (size_t k = first; k < last; ++k) (out += ops[k].kind).append(ops[k].line) += '\n';
}

}  // namespace

std::string unified_diff(std::string_view before, std::string_view after, const std::string& old_name,
                         const std::string& new_name) {
    if (before == after) return "";
    auto a = split_lines(before);
    auto b = split_lines(after);
    std::vector<Op> ops = edit_script(a, b);
    std::string out = "--- " + old_name + "\n+++ " + new_name + "\n";
    size_t k = 0, old_line = 1, new_line = 1;
    while (k < ops.size()) {
        if (ops[k].kind == ' ') {
            ++k, ++old_line, ++new_line;
            continue;
        }
        // A hunk: back up to kContext lines of context, run until kContext*2 unchanged lines.
        size_t back = std::min(kContext, old_line - 1);
        back = std::min(back, k);
        size_t first = k - back, end = k, quiet = 0;
        while (end < ops.size() && quiet <= 2 * kContext) {
            quiet = ops[end].kind == ' ' ? quiet + 1 : 0;
            ++end;
        }
        size_t last = end - (quiet > kContext ? quiet - kContext : 0);
        write_hunk(out, ops, first, last, old_line - back, new_line - back);
        for (size_t x = k; x < last; ++x) {
            old_line += ops[x].kind != '+';
            new_line += ops[x].kind != '-';
        }
        k = last;
    }
    return out;
}

}  // namespace procview::ctl
