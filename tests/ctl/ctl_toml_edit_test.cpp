#include "ctl/toml_edit.hpp"

#include "ctl_test_util.hpp"

using namespace procview::ctl;
using namespace procview::ctl::test;

TEST_CASE("edit_top_level: changes a value where it stands, multi-line and after non-ASCII text") {
    std::string text = "# café ☕\nimports = [\"/a\", # first\n  \"/b\"]   # tail\nversion = 2\n[t]\nk = \"ü\"\n";
    toml::table original = parsed(text);
    toml::table wanted = original;
    wanted.insert_or_assign("imports", toml::array{"/a", "/c"});
    auto r = edit_top_level(text, wanted, "f");
    REQUIRE(r);
    CHECK(*r == "# café ☕\nimports = [ \"/a\", \"/c\" ]   # tail\nversion = 2\n[t]\nk = \"ü\"\n");
}

TEST_CASE("edit_top_level: inserts before the first setting, deletes whole lines") {
    std::string text = "\n# c\n\n[t]\nk = 1\n";
    toml::table original = parsed(text);
    toml::table wanted = original;
    wanted.insert("version", 2);
    auto added = edit_top_level(text, wanted, "f");
    REQUIRE(added);
    CHECK(*added == "\n# c\n\nversion = 2\n[t]\nk = 1\n");
    auto removed = edit_top_level(*added, original, "f");
    REQUIRE(removed);
    CHECK(*removed == text);
}

TEST_CASE("edit_top_level: refuses what it cannot do on the text; rewrite_toml falls back and says so") {
    std::string text = "version = 2\n[t]\nk = 1\n";
    toml::table original = parsed(text);
    toml::table wanted = original;
    wanted["t"].as_table()->insert_or_assign("k", 2);  // inside a table: not a top-level key
    auto r = edit_top_level(text, wanted, "f");
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "f: `t` is a table");
    std::vector<std::string> notes;
    std::string rewritten = rewrite_toml(text, original, wanted, "f", notes);
    CHECK(parsed(rewritten) == wanted);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].find("comments and layout are not kept") != std::string::npos);
    notes.clear();
    CHECK(rewrite_toml(text, original, original, "f", notes) == text);
    CHECK(notes.empty());
}

TEST_CASE("parse_toml: the error names the file and the position") {
    auto r = parse_toml("a = 1\nb = [\n", "/etc/x.toml");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.starts_with("/etc/x.toml: line 2"));
}
