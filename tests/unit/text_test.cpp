#include "core/text.hpp"

#include <doctest/doctest.h>

#include <limits>

using namespace procview;

TEST_CASE("trim strips blanks and newlines on both sides") {
    CHECK(trim("  12\n") == "12");
    CHECK(trim("\t a b \r\n") == "a b");
    CHECK(trim("") == "");
    CHECK(trim(" \n\t").empty());
}

TEST_CASE("parse_u64 accepts whole decimal numbers only") {
    CHECK(parse_u64("0") == 0u);
    CHECK(parse_u64("268435456\n") == 268435456u);
    CHECK(parse_u64("18446744073709551615") == std::numeric_limits<uint64_t>::max());
    CHECK_FALSE(parse_u64("18446744073709551616"));  // overflow
    CHECK_FALSE(parse_u64("-1"));
    CHECK_FALSE(parse_u64("+1"));
    CHECK_FALSE(parse_u64("12abc"));
    CHECK_FALSE(parse_u64("1 2"));
    CHECK_FALSE(parse_u64(""));
    CHECK_FALSE(parse_u64("max"));
    CHECK_FALSE(parse_u64("0x10"));
}

TEST_CASE("parse_i64 handles signs and range") {
    CHECK(parse_i64("-1") == -1);
    CHECK(parse_i64(" 150000\n") == 150000);
    CHECK(parse_i64("-9223372036854775808") == std::numeric_limits<int64_t>::min());
    CHECK_FALSE(parse_i64("9223372036854775808"));
    CHECK_FALSE(parse_i64("--1"));
    CHECK_FALSE(parse_i64("1.5"));
}

TEST_CASE("split_lines drops only the empty line after a final newline") {
    CHECK(split_lines("a\nb\n") == std::vector<std::string_view>{"a", "b"});
    CHECK(split_lines("a\nb") == std::vector<std::string_view>{"a", "b"});
    CHECK(split_lines("a\n\nb\n") == std::vector<std::string_view>{"a", "", "b"});
    CHECK(split_lines("").empty());
}

TEST_CASE("split_fields splits on runs of spaces and tabs") {
    CHECK(split_fields("  7       0 loop0 0\t\t1 ") == std::vector<std::string_view>{"7", "0", "loop0", "0", "1"});
    CHECK(split_fields("").empty());
    CHECK(split_fields(" \t ").empty());
}

TEST_CASE("append_u64 appends decimal digits") {
    std::string out = "x=";
    append_u64(out, 0);
    out += ',';
    append_u64(out, 18446744073709551615ULL);
    CHECK(out == "x=0,18446744073709551615");
}

TEST_CASE("consume_u64 takes the leading decimal number and leaves the rest") {
    std::string_view text = "6.18.0-13-amd64";
    CHECK(consume_u64(text) == 6u);
    CHECK(text == ".18.0-13-amd64");
    text.remove_prefix(1);
    CHECK(consume_u64(text) == 18u);
    CHECK(text == ".0-13-amd64");
    std::string_view none = "-1";
    CHECK(!consume_u64(none));
    CHECK(none == "-1");  // unchanged
    std::string_view huge = "99999999999999999999x";
    CHECK(!consume_u64(huge));
    CHECK(huge.size() == 21);
}
