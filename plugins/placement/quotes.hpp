// The quotes -> offerings mapping: a run that brings package-level quotes (input.quotes) and no
// offerings is placed over one offering per quoted line.
#pragma once

#include <boost/json/array.hpp>

namespace engined::placement {

// One offering per line of every quote. A line is a member of the quote whose value is an
// object ("home", "auto", "umbrella", ...); the quote's scalar members describe the package:
//   carrier                -> provider_name, and provider_id as its slug ("State Farm" -> "state-farm")
//   line key               -> category
//   line quote_id          -> id and attributes.quote_id ("<package_id>/<line>" when absent)
//   line premium_annual    -> attributes.line_premium_annual
//   package_id, package_premium_annual, quote_expires_at, term_months -> attributes.*
// Offering-level fields (quality_rating, pricing_tier, commission, and coverage / constraints
// objects) keep their place; every other member passes through into attributes, the line's
// own members overriding the quote's.
boost::json::array offerings_from_quotes(const boost::json::array& quotes);

}  // namespace engined::placement
