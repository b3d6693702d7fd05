// The access-token codec: what it signs verifies, and every altered, foreign or expired token is
// refused.
#include "app/access_token.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace joopang {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef";

AccessClaims Claims(std::int64_t user, EpochMs expires_at) {
    return AccessClaims{user, AccessTokenCodec::NewTokenId(), 1'000'000, expires_at};
}

TEST(AccessToken, SignedTokenVerifiesWithItsClaims) {
    AccessTokenCodec codec(kSecret);
    auto c = Claims(42, 5'000'000);
    auto token = codec.Sign(c);
    auto back = codec.Verify(token, 2'000'000);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->user_id, 42);
    EXPECT_EQ(back->token_id, c.token_id);
    EXPECT_EQ(back->issued_at, 1'000'000);
    EXPECT_EQ(back->expires_at, 5'000'000);
}

TEST(AccessToken, IsACompactJwtWithTheHs256Header) {
    AccessTokenCodec codec(kSecret);
    auto token = codec.Sign(Claims(7, 5'000'000));
    // base64url of {"alg":"HS256","typ":"JWT"}
    EXPECT_EQ(token.substr(0, token.find('.')), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
    EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
    EXPECT_EQ(token.find_first_of("+/= "), std::string::npos);
}

TEST(AccessToken, ExpiredTokenIsRefused) {
    AccessTokenCodec codec(kSecret);
    auto token = codec.Sign(Claims(42, 5'000'000));
    EXPECT_TRUE(codec.Verify(token, 4'999'999));
    auto r = codec.Verify(token, 5'000'000);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized);
    EXPECT_NE(r.error().message.find("expired"), std::string::npos);
}

TEST(AccessToken, AnotherSecretsTokenIsRefused) {
    AccessTokenCodec ours(kSecret);
    AccessTokenCodec theirs("another secret of enough bytes!!");
    auto r = ours.Verify(theirs.Sign(Claims(42, 5'000'000)), 0);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("signature"), std::string::npos);
}

TEST(AccessToken, EveryAlteredByteIsRefused) {
    AccessTokenCodec codec(kSecret);
    auto token = codec.Sign(Claims(42, 5'000'000));
    for (std::size_t i = 0; i < token.size(); ++i) {
        std::string t = token;
        t[i] = t[i] == 'A' ? 'B' : 'A';
        EXPECT_FALSE(codec.Verify(t, 0)) << "byte " << i;
    }
    EXPECT_FALSE(codec.Verify(token + "A", 0));
    EXPECT_FALSE(codec.Verify(token.substr(0, token.size() - 1), 0));
}

TEST(AccessToken, ForeignShapesAreRefused) {
    AccessTokenCodec codec(kSecret);
    auto token = codec.Sign(Claims(42, 5'000'000));
    auto payload = token.substr(token.find('.'));
    // alg "none" with no signature, and garbage of every shape.
    EXPECT_FALSE(codec.Verify(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0" + payload.substr(0, payload.rfind('.') + 1), 0));
    const std::vector<std::string> shapes = {"",    ".",       "..",       "a.b.c",
                                             "a.b", "a.b.c.d", "Bearer x", std::string(5000, 'a')};
    for (const auto& bad : shapes) EXPECT_FALSE(codec.Verify(bad, 0)) << bad;
}

TEST(AccessToken, ShortSecretIsRejected) {
    EXPECT_THROW(AccessTokenCodec("short"), std::invalid_argument);
}

TEST(AccessToken, TokenIdsAreUniqueAndUrlSafe) {
    auto a = AccessTokenCodec::NewTokenId(), b = AccessTokenCodec::NewTokenId();
    EXPECT_NE(a, b);
    EXPECT_EQ(a.size(), 22u);  // 128 bits in base64url
    EXPECT_EQ(a.find_first_of("+/=\""), std::string::npos);
}

TEST(AccessToken, VerifiesConcurrentlyFromManyThreads) {
    AccessTokenCodec codec(kSecret);
    auto token = codec.Sign(Claims(9, 5'000'000));
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 2000; ++i)
                if (codec.Verify(token, 0)) ++ok;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 8000);
}

}  // namespace
}  // namespace joopang
