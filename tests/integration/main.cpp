#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <signal.h>

#include "harness.hpp"

int main(int argc, char** argv) {
    pvtest::run_container_helper_if_asked(argc, argv);  // a Container re-executes this binary
    // A container whose init died (an OOM kill in a small cgroup) must fail
    // the test that talks to it with the reason, not kill the whole run with
    // SIGPIPE on the next write to its socket.
    ::signal(SIGPIPE, SIG_IGN);
    doctest::Context context(argc, argv);
    return context.run();
}
