// core/versions — the comparison behind SPEC §5's version numbering: publishing a configuration
// is a new major when its request or response contract stops accepting data the newest release
// accepted, and a minor otherwise. This file finds those breaking changes between two draft-7
// JSON Schemas.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace engined::versions {

struct BreakingChange {
    std::string
        pointer;  // JSON Pointer into the new document's data shape ("/input/address/zip_code",
                  // "/*" for any array item or additional member); "" for the root
    std::string rule;     // property_removed, type_changed, type_narrowed, property_newly_required,
                          // enum_value_removed, additional_properties_closed, constraint_tightened,
                          // items_changed
    std::string message;  // one sentence naming the field and what changed
};

// Breaking changes from `before` to `after`, sorted by pointer, then rule, then message. Empty
// means the change is minor (or there is none). Local "$ref"s ("#/definitions/…") are followed
// and "allOf" members are merged into one schema; keywords outside the rules (anyOf, oneOf, not,
// if/then/else, dependencies, …) are not compared.
std::vector<BreakingChange> breaking_changes(const boost::json::value& before,
                                             const boost::json::value& after);

}  // namespace engined::versions
