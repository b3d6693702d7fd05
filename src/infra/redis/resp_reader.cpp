#include "infra/redis/resp_reader.hpp"

#include <hiredis/read.h>

#include <algorithm>
#include <new>

namespace joopang::redis {

// hiredis calls these for every value it parses. The root value is RespReader::root_ (found through
// the task's privdata); nested values live in their parent's `elements`, appended one at a time as
// they arrive. hiredis builds depth-first, in index order: a parent's vector only grows once its
// last element is complete, so the pointers it holds (the arrays still being filled) stay valid.
// Growing as elements arrive, not sizing to the declared count, keeps a corrupt header such as
// "*100000000" from allocating gigabytes before any element came (found by fuzzing).
struct RespReader::Callbacks {
    static constexpr std::size_t kMaxReserve = 1024;

    static Reply* Slot(const redisReadTask* task) {
        if (task->parent != nullptr) {
            auto* parent = static_cast<Reply*>(task->parent->obj);
            auto idx = static_cast<std::size_t>(task->idx);
            if (parent->elements.size() <= idx) parent->elements.resize(idx + 1);
            return &parent->elements[idx];
        }
        return &static_cast<RespReader*>(task->privdata)->root_;
    }
    static void* CreateString(const redisReadTask* task, char* str, size_t len) {
        Reply* r = Slot(task);
        switch (task->type) {
            case REDIS_REPLY_STATUS:
                r->type = Reply::Type::kStatus;
                break;
            case REDIS_REPLY_ERROR:
                r->type = Reply::Type::kError;
                break;
            default:
                r->type = Reply::Type::kBulk;
                break;
        }
        r->str.assign(str, len);
        return r;
    }
    static void* CreateArray(const redisReadTask* task, int elements) {
        Reply* r = Slot(task);
        r->type = Reply::Type::kArray;
        r->elements.clear();
        r->elements.reserve(std::min(kMaxReserve, static_cast<std::size_t>(std::max(elements, 0))));
        return r;
    }
    static void* CreateInteger(const redisReadTask* task, long long value) {
        Reply* r = Slot(task);
        r->type = Reply::Type::kInteger;
        r->integer = value;
        return r;
    }
    static void* CreateNil(const redisReadTask* task) {
        Reply* r = Slot(task);
        r->type = Reply::Type::kNil;
        return r;
    }
    // Only ever called on the root (on a protocol error or when the reader is freed).
    static void FreeObject(void* obj) { *static_cast<Reply*>(obj) = Reply{}; }

    static inline redisReplyObjectFunctions functions = {
        &CreateString, &CreateArray, &CreateInteger, &CreateNil, &FreeObject,
    };
};

RespReader::RespReader() {
    reader_ = redisReaderCreateWithFunctions(&Callbacks::functions);
    if (reader_ == nullptr) throw std::bad_alloc();
    reader_->privdata = this;
}

RespReader::~RespReader() { redisReaderFree(reader_); }

bool RespReader::Feed(std::string_view bytes) {
    return redisReaderFeed(reader_, bytes.data(), bytes.size()) == REDIS_OK;
}

RespReader::Next RespReader::Pop(Reply& out) {
    void* obj = nullptr;
    if (redisReaderGetReply(reader_, &obj) != REDIS_OK) return Next::kProtocolError;
    if (obj == nullptr) return Next::kIncomplete;
    out = std::move(root_);
    root_ = Reply{};
    return Next::kReply;
}

std::string RespReader::ErrorMessage() const { return reader_->errstr; }

}  // namespace joopang::redis
