#include "infra/redis/script.hpp"

#include "infra/redis/sha1.hpp"

namespace joopang::redis {

Script::Script(std::string name, std::string source)
    : name_(std::move(name)), source_(std::move(source)), sha1_(Sha1Hex(source_)) {}

}  // namespace joopang::redis
