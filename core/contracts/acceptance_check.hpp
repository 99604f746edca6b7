// core/contracts (internal) — the fast answer for the common case, a document that conforms. The
// rewritten schema (schema_view.hpp) is compiled a second time into nodes that are evaluated over
// the Boost.JSON value directly: no adapter objects, no context path copied per member and item,
// no error text. Its verdict is trusted only when it says "conforms"; a document it refuses or
// cannot judge goes to valijson, whose report the client gets. So it must never say "conforms"
// where valijson finds an error: each keyword is evaluated as valijson evaluates it (strict
// types), a keyword it does not evaluate makes the schema compile to no check at all, and where a
// value would need valijson's looser comparisons it answers "cannot tell". It charges the
// validation's work budget as the valijson constraints do.
#pragma once

#include <boost/json/value.hpp>

#include <memory>
#include <vector>

namespace re2 {
class RE2;
}

namespace engined::contracts {

class AcceptanceCheck {
public:
    // nullptr when the schema uses a keyword this check does not evaluate.
    static std::unique_ptr<const AcceptanceCheck> compile(
        const boost::json::value& rewritten,
        const std::vector<std::shared_ptr<const re2::RE2>>& patterns);

    ~AcceptanceCheck();
    AcceptanceCheck(const AcceptanceCheck&) = delete;
    AcceptanceCheck& operator=(const AcceptanceCheck&) = delete;

    // True only when `document` conforms to the schema. Throws WorkBoundExceeded as valijson's
    // run would when the installed budget runs out.
    bool conforms(const boost::json::value& document) const;

    // The compiled schema (acceptance_check.cpp).
    struct Node;
    struct Nodes;

private:
    AcceptanceCheck();
    std::unique_ptr<Nodes> nodes_;
    const Node* root_ = nullptr;
};

}  // namespace engined::contracts
