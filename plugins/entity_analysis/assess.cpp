#include "assess.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace engined::entity_analysis {

namespace {

// Thresholds of the levels; docs/entity-analysis.md lists them.
constexpr double kCheapPricing = 0.92;  // at or under: L1
constexpr double kMarketPricing = 1.0;  // at or under: L2
constexpr double kDearPricing = 1.08;   // at or under: L3, above: L4
constexpr int kSmallBalanceSheet = 7;   // financial size under VII costs a level
constexpr double kGoodCommission = 0.15;
constexpr double kQuickQuoteDays = 5;
constexpr double kSlowQuoteDays = 10;     // slower costs a service level
constexpr double kBandMarginShare = 0.2;  // revenue within the outer 20% of a band is near its edge
constexpr double kExcellentClaims = 0.85;
constexpr double kGoodClaims = 0.75;
constexpr double kFairClaims = 0.6;

int clamp_level(int level) {
    return std::clamp(level, 1, 4);
}

std::string percent(double fraction) {
    return std::to_string(std::lround(fraction * 100.0)) + "%";
}

std::string decimal2(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", value);
    return text;
}

std::string days(double value) {
    const long rounded = std::lround(value);
    return std::to_string(rounded) + (rounded == 1 ? " day" : " days");
}

std::string money(double amount) {
    char text[32];
    if (amount >= 1e9) {
        std::snprintf(text, sizeof text, "$%.3gB", amount / 1e9);
    } else if (amount >= 1e6) {
        std::snprintf(text, sizeof text, "$%.3gM", amount / 1e6);
    } else if (amount >= 1e3) {
        std::snprintf(text, sizeof text, "$%.3gK", amount / 1e3);
    } else {
        std::snprintf(text, sizeof text, "$%.0f", amount);
    }
    return text;
}

std::string join_lines(const std::vector<Line>& lines) {
    std::string joined;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        joined += i == 0 ? "" : (i + 1 == lines.size() ? " and " : ", ");
        joined += line_label(lines[i]);
    }
    return joined;
}

int appetite(const Carrier& carrier, const AssessContext& context, std::string* reason) {
    const Appetite worst = requested_appetite(carrier, context.prospect);
    const std::string avoided = avoided_prefix(carrier, context.prospect);
    const int level = (worst == Appetite::preferred ? 1 : 2) + (avoided.empty() ? 0 : 2);
    if (reason != nullptr) {
        const std::vector<Line> lines = written_requested_lines(carrier, context.prospect);
        std::string text = worst == Appetite::preferred ? "preferred" : "acceptable";
        text +=
            lines.empty() ? " appetite (no line requested)" : " appetite for " + join_lines(lines);
        text += avoided.empty()
                    ? ""
                    : "; avoids NAICS " + avoided + " (prospect " + *context.prospect.naics + ")";
        *reason = text;
    }
    return level;
}

int coverage(const Carrier& carrier, const AssessContext& context, std::string* reason) {
    const std::size_t requested = context.prospect.lines.size();
    const std::size_t written = written_requested_lines(carrier, context.prospect).size();
    std::size_t gaps_written = 0;
    for (const Line line : context.gap_lines) {
        const Appetite a = carrier.appetite_for(line);
        gaps_written += a == Appetite::preferred || a == Appetite::acceptable ? 1 : 0;
    }
    int level = 3;
    if (requested > 0) {
        level = written == requested ? 1 : (2 * written >= requested ? 2 : 3);
    }
    const bool fills_gaps =
        !context.gap_lines.empty() && 2 * gaps_written >= context.gap_lines.size();
    level = clamp_level(level - (fills_gaps ? 1 : 0));
    if (reason != nullptr) {
        std::string text = requested == 0   ? "no line requested"
                           : requested == 1 ? "writes the requested line"
                                            : "writes " + std::to_string(written) + " of " +
                                                  std::to_string(requested) + " requested lines";
        if (!context.gap_lines.empty()) {
            text += "; " + std::to_string(gaps_written) + " of " +
                    std::to_string(context.gap_lines.size()) + " coverage-gap line" +
                    (context.gap_lines.size() == 1 ? "" : "s");
        }
        *reason = text;
    }
    return level;
}

int financial(const Carrier& carrier, std::string* reason) {
    if (!carrier.rating_rank) {
        if (reason != nullptr) {
            *reason = carrier.am_best_rating
                          ? "rating " + *carrier.am_best_rating + " is not an AM Best grade"
                          : "no AM Best rating on file";
        }
        return 4;
    }
    // A++/A+ L1, A/A- L2, B++/B+ L3, lower L4.
    const int rank = *carrier.rating_rank;
    const bool small = carrier.size_class && *carrier.size_class < kSmallBalanceSheet;
    const int level = clamp_level((rank <= 1   ? 1
                                   : rank <= 3 ? 2
                                   : rank <= 5 ? 3
                                               : 4) +
                                  (small ? 1 : 0));
    if (reason != nullptr) {
        *reason = rating_phrase(carrier) + (small ? ", a small balance sheet" : "");
    }
    return level;
}

int pricing(const Carrier& carrier, std::string* reason) {
    if (reason != nullptr) {
        *reason = pricing_phrase(carrier);
    }
    if (!carrier.pricing_index) {
        return 3;
    }
    const double index = *carrier.pricing_index;
    return index <= kCheapPricing ? 1 : index <= kMarketPricing ? 2 : index <= kDearPricing ? 3 : 4;
}

// Where the prospect's revenue sits in the carrier's band: comfortably inside, near an edge, or
// unknown. An open band (no bound on one side or both) fits comfortably.
struct BandFit {
    bool comfortable = false;
    std::string words;
};

BandFit band_fit(const Carrier& carrier, const Prospect& prospect) {
    if (!prospect.revenue) {
        return {false, "band fit unknown (no revenue)"};
    }
    if (!carrier.revenue_min || !carrier.revenue_max ||
        *carrier.revenue_max <= *carrier.revenue_min) {
        return {true, "revenue inside an open band"};
    }
    const double position =
        (*prospect.revenue - *carrier.revenue_min) / (*carrier.revenue_max - *carrier.revenue_min);
    const std::string band = money(*carrier.revenue_min) + "-" + money(*carrier.revenue_max);
    if (position >= kBandMarginShare && position <= 1.0 - kBandMarginShare) {
        return {true, "revenue mid-band (" + band + ")"};
    }
    return {false, "revenue near the edge of its " + band + " band"};
}

int placement(const Carrier& carrier, const AssessContext& context, std::string* reason) {
    const bool good_commission = carrier.commission && *carrier.commission >= kGoodCommission;
    const bool quick =
        carrier.quote_turnaround_days && *carrier.quote_turnaround_days <= kQuickQuoteDays;
    const BandFit band = band_fit(carrier, context.prospect);
    const int favourable = (good_commission ? 1 : 0) + (quick ? 1 : 0) + (band.comfortable ? 1 : 0);
    if (reason != nullptr) {
        std::string text = carrier.commission ? percent(*carrier.commission) + " commission"
                                              : "commission unknown";
        text += carrier.quote_turnaround_days
                    ? ", quotes in " + days(*carrier.quote_turnaround_days)
                    : ", turnaround unknown";
        *reason = text + ", " + band.words;
    }
    return 4 - favourable;
}

int service(const Carrier& carrier, std::string* reason) {
    int level = 3;
    if (carrier.claims_satisfaction) {
        const double s = *carrier.claims_satisfaction;
        level = s >= kExcellentClaims ? 1 : s >= kGoodClaims ? 2 : s >= kFairClaims ? 3 : 4;
    }
    const bool slow =
        carrier.quote_turnaround_days && *carrier.quote_turnaround_days > kSlowQuoteDays;
    if (reason != nullptr) {
        std::string text = carrier.claims_satisfaction
                               ? "claims satisfaction " + decimal2(*carrier.claims_satisfaction)
                               : "claims satisfaction unknown";
        *reason =
            text + (slow ? ", slow to quote (" + days(*carrier.quote_turnaround_days) + ")" : "");
    }
    return clamp_level(level + (slow ? 1 : 0));
}

int score(Dimension dimension, const Carrier& carrier, const AssessContext& context,
          std::string* reason) {
    switch (dimension) {
        case Dimension::appetite:
            return appetite(carrier, context, reason);
        case Dimension::coverage:
            return coverage(carrier, context, reason);
        case Dimension::financial:
            return financial(carrier, reason);
        case Dimension::pricing:
            return pricing(carrier, reason);
        case Dimension::placement:
            return placement(carrier, context, reason);
        case Dimension::service:
            return service(carrier, reason);
    }
    return 4;
}

}  // namespace

Levels assess_levels(const Carrier& carrier, const AssessContext& context) {
    Levels levels{};
    for (std::size_t d = 0; d < kDimensionCount; ++d) {
        levels[d] = score(static_cast<Dimension>(d), carrier, context, nullptr);
    }
    return levels;
}

Scores explain_scores(const Carrier& carrier, const AssessContext& context) {
    Scores scores;
    for (std::size_t d = 0; d < kDimensionCount; ++d) {
        scores[d].level = score(static_cast<Dimension>(d), carrier, context, &scores[d].reason);
    }
    return scores;
}

std::string level_name(int level) {
    return "L" + std::to_string(clamp_level(level));
}

std::string rating_phrase(const Carrier& carrier) {
    if (!carrier.am_best_rating) {
        return "unrated";
    }
    return *carrier.am_best_rating +
           (carrier.financial_size ? " (" + *carrier.financial_size + ")" : "") + " rated";
}

std::string pricing_phrase(const Carrier& carrier) {
    if (!carrier.pricing_index) {
        return "no pricing index on file";
    }
    const long points = std::lround((1.0 - *carrier.pricing_index) * 100.0);
    if (points == 0) {
        return "pricing at market";
    }
    return "pricing " + std::to_string(std::labs(points)) + "% " + (points > 0 ? "under" : "over") +
           " market";
}

Appetite requested_appetite(const Carrier& carrier, const Prospect& prospect) {
    Appetite worst = Appetite::preferred;
    for (const Line line : prospect.lines) {
        if (carrier.appetite_for(line) == Appetite::acceptable) {
            worst = Appetite::acceptable;
        }
    }
    return worst;
}

std::vector<Line> written_requested_lines(const Carrier& carrier, const Prospect& prospect) {
    std::vector<Line> written;
    for (const Line line : prospect.lines) {
        const Appetite a = carrier.appetite_for(line);
        if (a == Appetite::preferred || a == Appetite::acceptable) {
            written.push_back(line);
        }
    }
    return written;
}

std::string avoided_prefix(const Carrier& carrier, const Prospect& prospect) {
    if (!prospect.naics) {
        return {};
    }
    const auto found = std::find_if(
        carrier.avoided_naics.begin(), carrier.avoided_naics.end(),
        [&](const std::string& prefix) { return naics_matches(*prospect.naics, prefix); });
    return found == carrier.avoided_naics.end() ? std::string() : *found;
}

}  // namespace engined::entity_analysis
