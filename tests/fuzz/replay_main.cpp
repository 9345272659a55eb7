// Replays fuzz inputs through the targets without libFuzzer, so every build
// (gcc or clang, sanitized or not) runs the kept corpus and crash inputs.
//
//   $ procview_fuzz_replay --all tests/fuzz        # corpus/<t>/* and regressions/<t>/* for every target
//   fuzz replay: 18 targets, 412 inputs (12 regressions), all passed
//   $ procview_fuzz_replay cgroup_io crash-1234    # one target, given files or directories
//
// A crash or a broken invariant aborts; the handler names the input first.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "fuzz_targets.hpp"

namespace fs = std::filesystem;

namespace {

using Target = int (*)(const uint8_t*, std::size_t);

const std::map<std::string, Target>& targets() {
    static const std::map<std::string, Target> table{
#define PROCVIEW_FUZZ_ENTRY(name) {#name, &procview::fuzz::fuzz_##name},
        PROCVIEW_FUZZ_TARGETS(PROCVIEW_FUZZ_ENTRY)
#undef PROCVIEW_FUZZ_ENTRY
    };
    return table;
}

// The input being replayed, for the crash handler (async-signal-safe write).
char g_current[4096];

void on_crash(int sig) {
    const char prefix[] = "\nfuzz replay: crashed on input ";
    (void)!::write(2, prefix, sizeof prefix - 1);
    (void)!::write(2, g_current, std::strlen(g_current));
    (void)!::write(2, "\n", 1);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

std::vector<fs::path> inputs_under(const fs::path& path) {
    std::vector<fs::path> out;
    if (fs::is_regular_file(path)) {
        out.push_back(path);
    } else if (fs::is_directory(path)) {
        for (const auto& entry : fs::recursive_directory_iterator(path))
            if (entry.is_regular_file() && entry.path().filename().string()[0] != '.') out.push_back(entry.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

void replay(Target target, const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), {});
    std::strncpy(g_current, file.c_str(), sizeof g_current - 1);
    target(reinterpret_cast<const uint8_t*>(data.data()), data.size());
}

// Every directory under corpus/ and regressions/ must name a target, and
// every target must have a corpus: a renamed target must not silently stop replaying.
int replay_all(const fs::path& root) {
    int problems = 0;
    std::size_t inputs = 0, regressions = 0;
    for (const char* kind : {"corpus", "regressions"}) {
        if (!fs::is_directory(root / kind)) continue;
        for (const auto& dir : fs::directory_iterator(root / kind)) {
            if (dir.is_directory() && !targets().count(dir.path().filename().string())) {
                std::cerr << "fuzz replay: " << dir.path() << " names no fuzz target\n";
                ++problems;
            }
        }
    }
    for (const auto& [name, target] : targets()) {
        auto corpus = inputs_under(root / "corpus" / name);
        if (corpus.empty()) {
            std::cerr << "fuzz replay: no corpus for target " << name << "\n";
            ++problems;
        }
        auto kept = inputs_under(root / "regressions" / name);
        for (const auto& file : corpus) replay(target, file);
        for (const auto& file : kept) replay(target, file);
        inputs += corpus.size() + kept.size();
        regressions += kept.size();
    }
    std::cout << "fuzz replay: " << targets().size() << " targets, " << inputs << " inputs (" << regressions
              << " regressions), " << (problems ? "FAILED" : "all passed") << "\n";
    return problems ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, on_crash);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 1 && args[0] == "--list") {
        for (const auto& [name, target] : targets()) std::cout << name << "\n";
        return 0;
    }
    if (args.size() == 2 && args[0] == "--all") return replay_all(args[1]);
    if (args.size() < 2 || !targets().count(args[0])) {
        std::cerr << "usage: procview_fuzz_replay --all FUZZ_DIR | --list | TARGET FILE_OR_DIR...\n";
        return 2;
    }
    std::size_t n = 0;
    for (std::size_t i = 1; i < args.size(); ++i)
        for (const auto& file : inputs_under(args[i])) {
            replay(targets().at(args[0]), file);
            ++n;
        }
    std::cout << "fuzz replay: " << args[0] << ": " << n << " inputs passed\n";
    return n ? 0 : 1;
}
