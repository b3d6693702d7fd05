#pragma once
/// RESP2 reply parsing on top of hiredis's `redisReader` (the parser only; hiredis never touches a
/// socket here). Bytes may arrive in any fragmentation; complete replies come out in order.

#include <memory>
#include <string>
#include <string_view>

#include "infra/redis/reply.hpp"

struct redisReader;

namespace joopang::redis {

class RespReader {
  public:
    enum class Next { kReply, kIncomplete, kProtocolError };

    RespReader();
    ~RespReader();
    RespReader(const RespReader&) = delete;
    RespReader& operator=(const RespReader&) = delete;

    /// Appends bytes read from the connection. Returns false once the stream is malformed.
    bool Feed(std::string_view bytes);
    /// Extracts the next complete reply into `out`. kIncomplete: feed more bytes. kProtocolError:
    /// the stream is corrupt and the connection must be dropped (see ErrorMessage()).
    Next Pop(Reply& out);
    /// The parser's description of a protocol error.
    std::string ErrorMessage() const;

  private:
    struct Callbacks;
    redisReader* reader_ = nullptr;
    Reply root_;  // the reply being built; hiredis fills it through Callbacks
};

}  // namespace joopang::redis
