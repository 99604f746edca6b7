// A JSON Schema from the source tree under valijson, the validator the host uses, for the
// engines' contract tests.
#pragma once

#include "source_tree.hpp"

#include <boost/json/value.hpp>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace engined::plugin_sdk::test {

class Contract {
public:
    explicit Contract(std::string_view relative_path) : Contract(read_json_object(relative_path)) {}

    // A schema held in a document, such as a release bundle's config.request_schema.
    explicit Contract(boost::json::object document) : document_(std::move(document)) {
        valijson::SchemaParser parser;
        parser.populateSchema(valijson::adapters::BoostJsonAdapter(document_), schema_);
    }

    // Every failure, one per line; empty when `value` satisfies the schema.
    std::string violations(const boost::json::value& value) const {
        valijson::Validator validator;
        valijson::ValidationResults results;
        validator.validate(schema_, valijson::adapters::BoostJsonAdapter(value), &results);
        std::string report;
        valijson::ValidationResults::Error error;
        while (results.popError(error)) {
            for (const std::string& step : error.context) {
                report += step;
            }
            report += ": " + error.description + "\n";
        }
        return report;
    }

private:
    boost::json::value document_;
    valijson::Schema schema_;
};

}  // namespace engined::plugin_sdk::test
