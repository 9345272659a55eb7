// libFuzzer's entry point for one target, chosen at compile time with
// -DPROCVIEW_FUZZ_TARGET=<name> (see CMakeLists.txt).
#include "fuzz_targets.hpp"

#ifndef PROCVIEW_FUZZ_TARGET
#error "compile with -DPROCVIEW_FUZZ_TARGET=<target name>"
#endif

#define PROCVIEW_FUZZ_CAT(a, b) a##b
#define PROCVIEW_FUZZ_FN(name) PROCVIEW_FUZZ_CAT(fuzz_, name)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    return procview::fuzz::PROCVIEW_FUZZ_FN(PROCVIEW_FUZZ_TARGET)(data, size);
}
