#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <signal.h>

#include "harness.hpp"

int main(int argc, char** argv) {
    pvtest::run_container_helper_if_asked(argc, argv);  // a Container re-executes this binary
    ::signal(SIGPIPE, SIG_IGN);  // a container that died fails its test, not the run
    doctest::Context context(argc, argv);
    return context.run();
}
