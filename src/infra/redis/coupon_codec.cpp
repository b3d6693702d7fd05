#include "infra/redis/coupon_codec.hpp"

#include "infra/redis/numbers.hpp"
#include "infra/redis/stream_group_ops.hpp"

namespace joopang::redis::coupon_codec {

namespace {

/// Splits "a:b" into two positive integers.
std::optional<std::pair<std::int64_t, std::int64_t>> ParsePair(std::string_view item) {
    auto colon = item.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto a = ParseInteger(item.substr(0, colon));
    auto b = ParseInteger(item.substr(colon + 1));
    if (!a || !b || *a <= 0 || *b <= 0) return std::nullopt;
    return std::pair{*a, *b};
}

}  // namespace

std::int64_t RequestIdOf(const std::string& entry_id, std::int64_t index) {
    auto dash = entry_id.find('-');
    if (dash == std::string::npos || index < 0 || index >= 1000) return 0;
    auto ms = ParseInteger(std::string_view(entry_id).substr(0, dash));
    auto seq = ParseInteger(std::string_view(entry_id).substr(dash + 1));
    if (!ms || !seq || *ms <= 0 || *ms >= 9'000'000'000'000 || *seq < 0 || *seq >= 1000) return 0;
    return *ms * 1'000'000 + *seq * 1'000 + index;
}

std::string EntryIdOf(std::int64_t request_id) {
    return std::to_string(request_id / 1'000'000) + "-" +
           std::to_string(request_id % 1'000'000 / 1'000);
}

void DecodeEntry(std::int64_t template_id, const StreamEntry& e, std::vector<IssueEntry>& out) {
    std::optional<std::int64_t> user, seq, pos, at, request;
    std::optional<std::string_view> wins;
    for (const auto& [k, v] : e.fields) {
        if (k == "u")
            user = ParseInteger(v);
        else if (k == "s")
            seq = ParseInteger(v);
        else if (k == "p")
            pos = ParseInteger(v);
        else if (k == "t")
            at = ParseInteger(v);
        else if (k == "r")
            request = ParseInteger(v);
        else if (k == "w")
            wins = v;
    }
    // The issue time is the entry id's milliseconds (Redis's clock when it was won); replayed
    // entries carry it as 't'.
    const std::int64_t entry_ms =
        ParseInteger(std::string_view(e.id).substr(0, e.id.find('-'))).value_or(0);
    auto win = [&](std::int64_t k, std::int64_t u, std::int64_t s) {
        IssueEntry w;
        w.entry_id = e.id;
        w.coupon.template_id = template_id;
        // A replayed win keeps the request id its client holds.
        w.coupon.request_id = request && !wins ? *request : RequestIdOf(e.id, k);
        w.coupon.user_id = u;
        w.coupon.seq = s;
        w.coupon.position = *pos + k;
        w.coupon.issued_at = at ? *at : entry_ms;
        return w;
    };
    const std::size_t before = out.size();
    bool ok = pos && *pos > 0;
    if (ok && wins) {
        std::int64_t k = 0;
        std::string_view rest = *wins;
        while (ok && !rest.empty()) {
            auto comma = rest.find(',');
            auto pair = ParsePair(rest.substr(0, comma));
            ok = pair && k < 1000;
            if (ok) out.push_back(win(k++, pair->first, pair->second));
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        }
        ok = ok && k > 0;
    } else if (ok) {
        ok = user && seq && *user > 0 && *seq > 0;
        if (ok) out.push_back(win(0, *user, *seq));
    }
    if (ok) {
        for (std::size_t i = before; i < out.size(); ++i) ok = ok && out[i].coupon.request_id > 0;
    }
    if (!ok) {
        out.resize(before);
        IssueEntry bad;
        bad.entry_id = e.id;
        bad.coupon.template_id = template_id;
        bad.malformed = true;
        bad.raw_fields = e.fields;
        out.push_back(std::move(bad));
    }
}

std::vector<IssueEntry> DecodeEntries(std::int64_t template_id,
                                      const std::vector<StreamEntry>& entries) {
    std::vector<IssueEntry> out;
    out.reserve(entries.size());
    for (const auto& e : entries) {
        if (e.fields.empty()) continue;  // deleted while pending
        DecodeEntry(template_id, e, out);
    }
    return out;
}

std::optional<std::int64_t> TemplateOfStream(const std::string& stream) {
    const std::string prefix = "coupon-issue:{";
    if (stream.rfind(prefix, 0) != 0 || stream.back() != '}') return std::nullopt;
    return ParseInteger(
        std::string_view(stream).substr(prefix.size(), stream.size() - prefix.size() - 1));
}

StreamFields DeadLetterFields(const IssuedCoupon& win,
                              const std::string& source_entry,
                              const std::string& reason) {
    StreamFields f{{"u", std::to_string(win.user_id)},
                   {"s", std::to_string(win.seq)},
                   {"p", std::to_string(win.position)},
                   {"t", std::to_string(win.issued_at)},
                   {"r", std::to_string(win.request_id)}};
    for (auto& note : stream_ops::DeadLetterNotes(source_entry, reason))
        f.push_back(std::move(note));
    return f;
}

std::string ReservedState(std::int64_t user_id, std::int64_t position) {
    return "R:" + std::to_string(user_id) + ":" + std::to_string(position);
}

std::string FailedState(std::int64_t user_id, std::int64_t position) {
    return "F:" + std::to_string(user_id) + ":" + std::to_string(position);
}

std::optional<IssueRequestState> ParseRequestState(std::string_view s) {
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        auto colon = s.find(':', start);
        parts.push_back(s.substr(start, colon - start));
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    if (parts.size() < 3 || parts.size() > 4) return std::nullopt;
    IssueRequestState st;
    if (parts[0] == "I" && parts.size() == 4)
        st.kind = IssueRequestState::Kind::kIssued;
    else if (parts[0] == "F" && parts.size() == 3)
        st.kind = IssueRequestState::Kind::kFailed;
    else if (parts[0] == "R" && parts.size() == 3)
        st.kind = IssueRequestState::Kind::kReserved;
    else
        return std::nullopt;
    auto user = ParseInteger(parts[1]);
    auto position = ParseInteger(parts[2]);
    auto coupon = parts.size() == 4 ? ParseInteger(parts[3]) : std::optional<std::int64_t>(0);
    if (!user || !position || !coupon) return std::nullopt;
    st.user_id = *user;
    st.position = *position;
    st.coupon_id = *coupon;
    return st;
}

}  // namespace joopang::redis::coupon_codec
