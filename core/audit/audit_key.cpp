#include "audit/audit_key.hpp"

#include "common/crypto.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace engined::audit {
namespace {

constexpr std::size_t kKeyBytes = 32;

bool is_key_text(const std::string& text) {
    if (text.size() != 2 * kKeyBytes) return false;
    for (const char c : text) {
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0) return false;
    }
    return true;
}

std::string trimmed(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

std::filesystem::path default_key_file(const std::filesystem::path& data_dir) {
    return data_dir / "audit.key";
}

std::string read_key(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read the audit key file " + file.string() +
                                 ": it seals the audit log; without it no record can be added "
                                 "or verified");
    }
    std::ostringstream text;
    text << in.rdbuf();
    const std::string key = trimmed(text.str());
    if (!is_key_text(key)) {
        throw std::runtime_error("the audit key file " + file.string() + " must hold " +
                                 std::to_string(2 * kKeyBytes) + " hex characters");
    }
    return key;
}

std::string read_or_create_key(const std::filesystem::path& file) {
    // O_EXCL: of two processes starting at once, one writes the key and both read it.
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        const std::string key = random_hex(kKeyBytes) + "\n";
        const bool written =
            ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
            ::fsync(fd) == 0;
        ::close(fd);
        if (!written) {
            std::filesystem::remove(file);
            throw std::runtime_error("cannot write the audit key file " + file.string());
        }
    } else if (errno != EEXIST) {
        throw std::runtime_error("cannot create the audit key file " + file.string() + ": " +
                                 std::strerror(errno));
    }
    return read_key(file);
}

}  // namespace engined::audit
