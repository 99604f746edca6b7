// `engined migrate --store URL` (or `--data-dir DIR`): applies the store's migrations without
// serving, e.g. before a rolling upgrade of several nodes (see docs/operations.md).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace engined::app {

// `args` are those after `migrate`. Returns the exit status: 0 migrated, 1 the store could not be
// opened or migrated (or its schema is newer than this engined), 2 bad arguments.
int run_migrate_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace engined::app
