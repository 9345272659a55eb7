// The command itself: read the engine's files, run its editor, then print
// the diff (--dry-run) or back up and write what changed.
#pragma once

#include <ostream>

#include "ctl/options.hpp"

namespace procview::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// Reports to `out` (what changed) and `err` (errors); returns the exit status.
// Every file is read and every edit computed before the first write, so a
// file that does not parse leaves all of them untouched.
int run(const Options& options, std::ostream& out, std::ostream& err);

}  // namespace procview::ctl
