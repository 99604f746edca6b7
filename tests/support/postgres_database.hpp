// A PostgreSQL database of its own for one test, on the throwaway server tools/with-postgres.sh
// starts (ENGINED_TEST_POSTGRES_URL); dropped afterwards. Without the variable, url() is empty and
// the test skips, saying why (kSkipReason).
#pragma once

#include "common/crypto.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace engined::testing {

inline constexpr const char* kPostgresSkipReason =
    "ENGINED_TEST_POSTGRES_URL is not set: run through tools/with-postgres.sh (tools/test.sh does) "
    "to test against PostgreSQL";

// Runs one statement on a connection opened for it; returns the first column of the rows it
// selected (none for other statements), as text. Throws with the server's message.
inline std::vector<std::string> postgres_select_column(const std::string& url,
                                                       const std::string& sql) {
    PGconn* connection = PQconnectdb(url.c_str());
    PGresult* result = PQexec(connection, sql.c_str());
    const bool ok =
        PQresultStatus(result) == PGRES_COMMAND_OK || PQresultStatus(result) == PGRES_TUPLES_OK;
    std::vector<std::string> column;
    for (int row = 0; ok && row < PQntuples(result); ++row)
        column.emplace_back(PQgetvalue(result, row, 0));
    const std::string message = PQerrorMessage(connection);
    PQclear(result);
    PQfinish(connection);
    if (!ok) throw std::runtime_error(message);
    return column;
}

inline void postgres_exec(const std::string& url, const std::string& sql) {
    postgres_select_column(url, sql);
}

class PostgresTestDatabase {
public:
    PostgresTestDatabase() {
        const char* server = std::getenv("ENGINED_TEST_POSTGRES_URL");
        if (server == nullptr || *server == '\0') return;
        admin_url_ = server;
        postgres_exec(admin_url_, "CREATE DATABASE " + name_);
        // postgresql://user@host/DB?params: the same server, this database.
        const std::size_t query = admin_url_.find('?');
        const std::size_t slash = admin_url_.rfind('/', query);
        url_ = admin_url_.substr(0, slash + 1) + name_ +
               (query == std::string::npos ? "" : admin_url_.substr(query));
    }
    ~PostgresTestDatabase() {
        if (url_.empty()) return;
        try {
            postgres_exec(admin_url_, "DROP DATABASE " + name_ + " WITH (FORCE)");
        } catch (...) {}
    }
    PostgresTestDatabase(const PostgresTestDatabase&) = delete;
    PostgresTestDatabase& operator=(const PostgresTestDatabase&) = delete;

    const std::string& url() const { return url_; }

private:
    std::string name_ = "engined_test_" + random_hex(6);
    std::string admin_url_;
    std::string url_;
};

}  // namespace engined::testing
