#include "infra/redis/multiplexer.hpp"

#include <algorithm>
#include <cassert>

#include "infra/redis/resp_reader.hpp"
#include "infra/redis/resp_writer.hpp"

namespace joopang::redis {

Multiplexer::Multiplexer() : reader_(std::make_unique<RespReader>()) {}
Multiplexer::~Multiplexer() = default;

void Multiplexer::Add(RequestId id,
                      std::string_view payload,
                      std::size_t reply_count,
                      Clock::time_point deadline) {
    assert(reply_count >= 1);
    Entry e;
    e.id = id;
    e.reply_count = reply_count;
    e.deadline = deadline;
    e.begin = pending_.size();
    pending_.append(payload);
    e.end = pending_.size();
    waiting_.push_back(std::move(e));
}

void Multiplexer::Add(RequestId id, std::span<const Args> commands, Clock::time_point deadline) {
    assert(!commands.empty());
    Entry e;
    e.id = id;
    e.reply_count = commands.size();
    e.deadline = deadline;
    e.begin = pending_.size();
    for (const auto& c : commands) AppendCommand(pending_, c);
    e.end = pending_.size();
    waiting_.push_back(std::move(e));
}

std::string_view Multiplexer::PrepareWrite() {
    writing_.clear();
    writing_.swap(pending_);
    for (auto& e : waiting_) {
        e.replies.reserve(e.reply_count);
        written_.push_back(std::move(e));
    }
    waiting_.clear();
    return writing_;
}

Status Multiplexer::Feed(std::string_view bytes) {
    if (!reader_->Feed(bytes)) {
        return Error::Unavailable("redis protocol error: " + reader_->ErrorMessage());
    }
    for (;;) {
        Reply reply;
        switch (reader_->Pop(reply)) {
            case RespReader::Next::kIncomplete:
                return {};
            case RespReader::Next::kProtocolError:
                return Error::Unavailable("redis protocol error: " + reader_->ErrorMessage());
            case RespReader::Next::kReply:
                break;
        }
        if (written_.empty()) {
            return Error::Unavailable("redis protocol error: a reply arrived with no request");
        }
        Entry& front = written_.front();
        ++front.received;
        if (!front.tombstone) front.replies.push_back(std::move(reply));
        if (front.received == front.reply_count) {
            if (front.tombstone) {
                --tombstones_;
            } else {
                completed_.push_back(Completion{front.id, std::move(front.replies)});
            }
            written_.pop_front();
        }
    }
}

template <class Pred>
void Multiplexer::DropWaitingIf(Pred pred, const Error& error) {
    if (std::none_of(waiting_.begin(), waiting_.end(), [&](const Entry& e) { return pred(e); })) {
        return;
    }
    // Compact the pending bytes, keeping the order of the requests that stay.
    std::string kept;
    std::deque<Entry> stay;
    for (auto& e : waiting_) {
        if (pred(e)) {
            completed_.push_back(Completion{e.id, error});
            continue;
        }
        const std::size_t begin = kept.size();
        kept.append(pending_, e.begin, e.end - e.begin);
        e.begin = begin;
        e.end = kept.size();
        stay.push_back(std::move(e));
    }
    waiting_.swap(stay);
    pending_.swap(kept);
}

bool Multiplexer::Cancel(RequestId id, Error error) {
    auto w =
        std::find_if(waiting_.begin(), waiting_.end(), [&](const Entry& e) { return e.id == id; });
    if (w != waiting_.end()) {
        DropWaitingIf([id](const Entry& e) { return e.id == id; }, error);
        return true;
    }
    for (auto& e : written_) {
        if (e.id == id && !e.tombstone) {
            e.tombstone = true;
            e.replies.clear();
            ++tombstones_;
            completed_.push_back(Completion{id, std::move(error)});
            return true;
        }
    }
    return false;
}

void Multiplexer::Expire(Clock::time_point now, const Error& error) {
    DropWaitingIf([now](const Entry& e) { return e.deadline <= now; }, error);
    for (auto& e : written_) {
        if (!e.tombstone && e.deadline <= now) {
            e.tombstone = true;
            e.replies.clear();
            ++tombstones_;
            completed_.push_back(Completion{e.id, error});
        }
    }
}

void Multiplexer::FailAll(const Error& error) {
    for (auto& e : written_) {
        if (!e.tombstone) completed_.push_back(Completion{e.id, error});
    }
    for (auto& e : waiting_) completed_.push_back(Completion{e.id, error});
    written_.clear();
    waiting_.clear();
    pending_.clear();
    tombstones_ = 0;
    reader_ = std::make_unique<RespReader>();
}

void Multiplexer::TakeCompleted(std::vector<Completion>& out) {
    out.clear();
    out.swap(completed_);
}

std::vector<Multiplexer::Completion> Multiplexer::TakeCompleted() {
    std::vector<Completion> out;
    TakeCompleted(out);
    return out;
}

Multiplexer::State Multiplexer::StateOf(RequestId id) const {
    for (const auto& e : waiting_) {
        if (e.id == id) return State::kWaiting;
    }
    for (const auto& e : written_) {
        if (e.id == id && !e.tombstone) return State::kWritten;
    }
    return State::kDone;
}

std::size_t Multiplexer::LiveCount() const {
    return waiting_.size() + written_.size() - tombstones_;
}

Multiplexer::Clock::time_point Multiplexer::NextDeadline() const {
    auto next = Clock::time_point::max();
    for (const auto& e : waiting_) next = std::min(next, e.deadline);
    for (const auto& e : written_) {
        if (!e.tombstone) next = std::min(next, e.deadline);
    }
    return next;
}

}  // namespace joopang::redis
