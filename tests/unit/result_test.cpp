// core/result.hpp's error contract: errnum is always a positive errno, and a
// reader is told EIO, not EINVAL, when a view's input did not parse.
#include <doctest/doctest.h>

#include <cerrno>

#include "core/config.hpp"
#include "core/proc_files.hpp"
#include "core/result.hpp"

using namespace procview;

TEST_CASE("error contract: errnum is never 0") {
    CHECK(make_error(0, "x").errnum == EIO);
    CHECK(make_error(-3, "x").errnum == EIO);
    CHECK(make_error(ENOENT, "x").errnum == ENOENT);
    CHECK(Error{}.errnum == EIO);
    CHECK(invalid("x").errnum == EINVAL);
    CHECK(make_error(ETIMEDOUT, "probe").context("hook").describe() == "hook: probe: Connection timed out");
    // Parsers report EINVAL, with what was wrong.
    auto bad = parse_meminfo("MemTotal: lots\n");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().errnum == EINVAL);
    CHECK_FALSE(bad.error().message.empty());
    auto config = parse_config("{\"threads\": -1}");
    REQUIRE_FALSE(config);
    CHECK(config.error().errnum == EINVAL);
}

TEST_CASE("error contract: what a FUSE reader is told for a view that could not be made") {
    CHECK(view_errno(invalid("meminfo: bad line")) == EIO);  // our input was bad, not the reader's request
    CHECK(view_errno(make_error(ENOENT, "no pressure files")) == ENOENT);
    CHECK(view_errno(make_error(EMFILE, "too many open")) == EMFILE);
    CHECK(view_errno(Error{0, "breach"}) == EIO);
}
