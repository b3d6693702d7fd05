#include "common/error.hpp"

#include <stdexcept>

namespace joopang {

std::string_view WireCode(ErrorCode code) {
    switch (code) {
#define X(name, wire, status) \
    case ErrorCode::name:     \
        return wire;
#include "common/error_codes.def"
#undef X
    }
    return "INTERNAL";
}

int HttpStatus(ErrorCode code) {
    switch (code) {
#define X(name, wire, status) \
    case ErrorCode::name:     \
        return status;
#include "common/error_codes.def"
#undef X
    }
    return 500;
}

void throw_exception_from_error(const Error& e, const boost::source_location&) {
    throw std::logic_error("unchecked error result: " + std::string(WireCode(e.code)) + ": " +
                           e.message);
}

}  // namespace joopang
