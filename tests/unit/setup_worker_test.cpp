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
