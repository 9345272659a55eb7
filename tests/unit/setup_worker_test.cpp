// fusefs/setup_worker: the thread that finishes requests of readers whose
// container is not known yet. Every job owes the kernel a reply, so none may
// be lost, and none may run twice.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "fusefs/setup_worker.hpp"

using procview::SetupWorker;

TEST_CASE("before start and after stop, a job runs on the caller's thread") {
    SetupWorker worker;
    std::thread::id ran_on;
    worker.run([&] { ran_on = std::this_thread::get_id(); });
    CHECK(ran_on == std::this_thread::get_id());
    worker.start();
    worker.stop();
    ran_on = {};
    worker.run([&] { ran_on = std::this_thread::get_id(); });
    CHECK(ran_on == std::this_thread::get_id());
}

TEST_CASE("a started worker runs jobs on its own thread, in order, and the caller does not wait") {
    SetupWorker worker;
    worker.start();
    std::promise<void> release;
    auto gate = release.get_future().share();
    std::vector<int> order;
    std::thread::id worker_thread;
    worker.run([&, gate] {
        worker_thread = std::this_thread::get_id();
        gate.wait();  // a slow set-up
        order.push_back(0);
    });
    for (int i = 1; i <= 3; ++i) worker.run([&order, i] { order.push_back(i); });
    // run() returned while the first job is still blocked: the loop goes on.
    release.set_value();
    worker.stop();
    CHECK(worker_thread != std::this_thread::get_id());
    CHECK(order == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("stop runs every queued job exactly once before it returns") {
    SetupWorker worker;
    worker.start();
    std::atomic<int> done{0};
    std::promise<void> release;
    auto gate = release.get_future().share();
    worker.run([gate] { gate.wait(); });
    for (int i = 0; i < 100; ++i) worker.run([&done] { done.fetch_add(1); });
    std::thread stopper([&] { worker.stop(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    release.set_value();
    stopper.join();
    CHECK(done.load() == 100);
}

TEST_CASE("queues are bounded per key and in all; a refused job is not run") {
    SetupWorker worker(3, 5);
    worker.start();
    std::promise<void> release;
    auto gate = release.get_future().share();
    std::atomic<int> ran{0};
    REQUIRE(worker.run([gate] { gate.wait(); }, 1));  // the worker is busy with it
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    int accepted_a = 0, accepted_b = 0, accepted_c = 0;
    for (int i = 0; i < 10; ++i) accepted_a += worker.run([&ran] { ran.fetch_add(1); }, 10);
    for (int i = 0; i < 10; ++i) accepted_b += worker.run([&ran] { ran.fetch_add(1); }, 20);
    for (int i = 0; i < 10; ++i) accepted_c += worker.run([&ran] { ran.fetch_add(1); }, 30);
    CHECK(accepted_a == 3);  // the key's cap
    CHECK(accepted_b == 2);  // the total's cap (5 queued)
    CHECK(accepted_c == 0);
    release.set_value();
    worker.stop();
    CHECK(ran.load() == 5);
}

TEST_CASE("keys take turns: a flooding key delays another key's job by one of its own") {
    SetupWorker worker;
    worker.start();
    std::promise<void> release;
    auto gate = release.get_future().share();
    std::vector<uint64_t> order;
    REQUIRE(worker.run([gate] { gate.wait(); }, 0));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (int i = 0; i < 100; ++i) REQUIRE(worker.run([&order] { order.push_back(1); }, 1));
    REQUIRE(worker.run([&order] { order.push_back(2); }, 2));
    release.set_value();
    worker.stop();
    REQUIRE(order.size() == 101);
    CHECK(order[0] == 1);
    CHECK(order[1] == 2);  // not after the other 99
}
