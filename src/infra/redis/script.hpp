#pragma once
/// A named Lua script. Client::Eval() calls it by EVALSHA and, when the server answers NOSCRIPT
/// (restart, SCRIPT FLUSH, a node that never saw it), loads it with SCRIPT LOAD on the node that
/// owns the keys and calls it again. Immutable and cheap to share; define scripts once (e.g. as
/// `static const Script`) and reuse them.

#include <string>

namespace joopang::redis {

class Script {
  public:
    /// `name` is for logs and errors; `source` is the Lua text. Computes the SHA-1 once.
    Script(std::string name, std::string source);

    const std::string& name() const { return name_; }
    const std::string& source() const { return source_; }
    /// Lower-case hex SHA-1 of the source, as EVALSHA wants it.
    const std::string& sha1() const { return sha1_; }

  private:
    std::string name_;
    std::string source_;
    std::string sha1_;
};

}  // namespace joopang::redis
