// `engined backup --data-dir DIR --to FILE`: an online copy of the store of an engined that
// may be serving from DIR at the same time (see docs/operations.md#backup).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace engined::app {

// `args` are those after `backup`. Returns the exit status: 0 copied and verified, 1 the copy
// failed (nothing is left at FILE), 2 bad arguments.
int run_backup_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace engined::app
