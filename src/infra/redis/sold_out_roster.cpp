#include "infra/redis/sold_out_roster.hpp"

#include "infra/redis/coupon_keys.hpp"
#include "infra/redis/numbers.hpp"

namespace joopang::redis {
namespace asio = boost::asio;
namespace keys = coupon_keys;

namespace {

/// A roster is read this many hash fields per HSCAN, so that no step holds Redis long: 1,000 took
/// Redis ~360 µs each during a drop, 200 take ~75 µs (a drop of 1,000,000 coupons reads in 5,000
/// steps).
constexpr int kRosterStep = 200;
/// … and this many bytes of the bitmap per GETRANGE (65,536 users: a copy of a few µs).
constexpr std::int64_t kRosterBitmapStep = 8192;

/// Adds to `roster` the users whose bit is set in the bitmap of template `t` (each holds one
/// coupon, unless the hash says otherwise: hash users are added by the caller, by count). False if
/// the roster would pass `max_users`.
asio::awaitable<Result<bool>> ReadRosterBits(Client& client,
                                             std::int64_t t,
                                             std::size_t max_users,
                                             SoldOutMemo::Roster& roster) {
    for (std::int64_t from = 0;; from += kRosterBitmapStep) {
        auto page = co_await client.Command(MakeArgs("GETRANGE", keys::Won(t), std::to_string(from),
                                                     std::to_string(from + kRosterBitmapStep - 1)));
        if (!page) co_return page.error();
        if (!page->IsString()) co_return false;
        const std::string& bytes = page->str;
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            const auto byte = static_cast<unsigned char>(bytes[i]);
            for (int bit = 0; bit < 8; ++bit)  // Redis numbers a byte's bits from its top
                if (byte & (0x80u >> bit))
                    roster.insert((from + static_cast<std::int64_t>(i)) * 8 + bit);
        }
        if (roster.size() > max_users) co_return false;
        if (static_cast<std::int64_t>(bytes.size()) < kRosterBitmapStep) co_return true;
    }
}

}  // namespace

/// Reads the roster of template `t`: every user whose count has reached the per-user limit. Valid
/// only if the template's generation reads `generation` before and after the scan — no count can
/// change without moving it while the template is sold out. Nothing if it moved or the roster
/// would hold more than `max_users` (then the memos learn user by user).
Awaitable<Result<std::shared_ptr<const SoldOutMemo::Roster>>> ReadSoldOutRoster(
    Client& client, std::int64_t t, std::int64_t generation, std::size_t max_users) {
    using Out = std::shared_ptr<const SoldOutMemo::Roster>;
    auto head = [&]() -> asio::awaitable<Result<Reply>> {
        co_return co_await client.Command(MakeArgs("HMGET", keys::Meta(t), "limit", "restores"));
    };
    // A generation or limit that is not a number reads as -1: no roster then (given up).
    auto generation_of = [](const Reply& r) -> std::int64_t {
        const Reply& g = r.elements[1];
        return g.IsNil() ? 0 : ParseInteger(g.str).value_or(-1);
    };
    auto before = co_await head();
    if (!before) co_return before.error();
    if (!before->IsArray() || before->elements.size() != 2 || before->elements[0].IsNil())
        co_return Out{};
    const auto limit = ParseInteger(before->elements[0].str);
    if (!limit || generation_of(*before) != generation) co_return Out{};
    auto size = co_await client.Command(MakeArgs("HLEN", keys::Users(t)));
    if (!size) co_return size.error();
    if (!size->IsInteger() || static_cast<std::uint64_t>(size->integer) > max_users)
        co_return Out{};
    auto roster = std::make_shared<SoldOutMemo::Roster>();
    roster->reserve(static_cast<std::size_t>(size->integer));
    if (*limit == 1) {  // every user with a bit holds one: at the limit
        auto bits = co_await ReadRosterBits(client, t, max_users, *roster);
        if (!bits) co_return bits.error();
        if (!*bits) co_return Out{};
    }
    std::string cursor = "0";
    do {
        auto page = co_await client.Command(
            MakeArgs("HSCAN", keys::Users(t), cursor, "COUNT", std::to_string(kRosterStep)));
        if (!page) co_return page.error();
        if (!page->IsArray() || page->elements.size() != 2) co_return Out{};
        cursor = page->elements[0].str;
        const auto& fields = page->elements[1].elements;
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
            auto user = ParseInteger(fields[i].str);
            auto count = ParseInteger(fields[i + 1].str);
            if (!user || !count) co_return Out{};  // not a roster this code wrote: given up
            if (*count >= *limit)
                roster->insert(*user);
            else
                roster->erase(*user);  // the hash's count wins over the bit
        }
    } while (cursor != "0");
    if (roster->size() > max_users) co_return Out{};
    auto after = co_await head();
    if (!after) co_return after.error();
    if (!after->IsArray() || after->elements.size() != 2 || generation_of(*after) != generation)
        co_return Out{};
    co_return Out(std::move(roster));
}

}  // namespace joopang::redis
