// fusefs/handles: FUSE file handles and the budget open handles are charged to.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <memory>

#include "fusefs/handles.hpp"

using namespace procview;

TEST_CASE("handles: the counter wraps past 2^64 without reusing a live handle") {
    constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
    // nonce 0, counter two short of the wrap: handles kMax-1, kMax, then 0 is skipped.
    HandleTable<int> table(0, kMax - 1);
    uint64_t long_lived = 1;  // an fd held since the first open of the counter's previous round
    table.adopt(long_lived, std::make_unique<int>(7));
    uint64_t a = table.add(std::make_unique<int>(1));
    uint64_t b = table.add(std::make_unique<int>(2));
    uint64_t c = table.add(std::make_unique<int>(3));
    CHECK(a == kMax - 1);
    CHECK(b == kMax);
    CHECK(c == 2);  // 0 is never a handle, 1 is live
    REQUIRE(table.find(long_lived));
    CHECK(*table.find(long_lived) == 7);  // still its own file, not another container's
    CHECK(*table.find(c) == 3);
    CHECK(table.size() == 4);
}

TEST_CASE("handles: ids are 64-bit, the nonce plus a counter") {
    HandleTable<int> table(0x1234'0000'0000'0000ULL, 0xffff'ffffULL);
    uint64_t a = table.add(std::make_unique<int>(1));
    uint64_t b = table.add(std::make_unique<int>(2));
    CHECK(a == 0x1234'0000'ffff'ffffULL);
    CHECK(b == 0x1234'0001'0000'0000ULL);  // a 32-bit counter would have wrapped to ...0000
    table.remove(a);
    CHECK_FALSE(table.find(a));
    CHECK(table.find(b));
}

TEST_CASE("handles: the budget caps each owner and the total, and charges are given back") {
    HandleBudget budget(2, 3);
    auto ctr1 = std::make_shared<HandleBudget::Count>();
    auto ctr2 = std::make_shared<HandleBudget::Count>();
    HandleBudget::Charge c1, c2, c3, c4, c5;
    CHECK(budget.take(ctr1, c1) == HandleBudget::Refused::none);
    CHECK(budget.take(ctr1, c2) == HandleBudget::Refused::none);
    CHECK(budget.take(ctr1, c3) == HandleBudget::Refused::owner_full);
    CHECK(ctr1->open == 2);
    CHECK(budget.take(ctr2, c3) == HandleBudget::Refused::none);
    CHECK(budget.take(ctr2, c4) == HandleBudget::Refused::total_full);
    CHECK(budget.total() == 3);
    // An orphan the kernel already holds is charged past the caps.
    CHECK(budget.take(ctr2, c5, true) == HandleBudget::Refused::none);
    CHECK(budget.total() == 4);
    c1 = HandleBudget::Charge();
    c5 = HandleBudget::Charge();
    CHECK(budget.total() == 2);
    CHECK(ctr1->open == 1);
    CHECK(budget.take(ctr1, c1) == HandleBudget::Refused::none);
}
