// AuthService with in-memory ports: sign-in, the throttle's verdicts, and logouts reaching
// another instance through the shared revocation log.
#include "app/auth_service.hpp"

#include <gtest/gtest.h>

#include <map>

#include "app/password_hasher.hpp"
#include "async_test_support.hpp"

namespace joopang {
namespace {
namespace asio = boost::asio;

class FakeUsers final : public UserRepository {
  public:
    std::map<std::string, UserCredentials> by_email;
    Result<User> Create(const User&, const std::string&) override {
        return Error::Internal("unused");
    }
    Result<User> Find(std::int64_t id) override {
        for (const auto& [email, c] : by_email)
            if (c.user_id == id) return User{id, email};
        return Error{ErrorCode::kUserNotFound, "no such user"};
    }
    Result<std::optional<UserCredentials>> FindCredentials(const std::string& email) override {
        auto it = by_email.find(email);
        if (it == by_email.end()) return std::optional<UserCredentials>{};
        return std::optional<UserCredentials>{it->second};
    }
    Result<Money> Charge(std::int64_t, Money) override { return Error::Internal("unused"); }
};

/// Counts like the Redis script: every attempt, refused beyond the limit, reset by a success.
class FakeThrottle final : public LoginThrottle {
  public:
    std::map<std::string, int> attempts;
    bool down = false;
    asio::awaitable<Result<Verdict>> Attempt(const std::string& subject,
                                             int max_attempts,
                                             std::int64_t window_ms) override {
        if (down) co_return Error::Unavailable("redis is down");
        int n = ++attempts[subject];
        if (n > max_attempts) co_return Verdict{false, window_ms};
        co_return Verdict{true, 0};
    }
    asio::awaitable<Status> Succeeded(const std::string& subject) override {
        attempts.erase(subject);
        co_return Status{};
    }
};

class FakeRevocationLog final : public RevocationLog {
  public:
    std::vector<Revocation> entries;
    bool down = false;
    asio::awaitable<Status> Publish(const Revocation& r) override {
        if (down) co_return Error::Unavailable("redis is down");
        entries.push_back(r);
        co_return Status{};
    }
    asio::awaitable<Result<std::vector<Revocation>>> ReadAfter(std::string& cursor,
                                                               int limit) override {
        std::size_t from = cursor.empty() ? 0 : std::stoul(cursor);
        std::vector<Revocation> out;
        for (std::size_t i = from; i < entries.size() && out.size() < std::size_t(limit); ++i)
            out.push_back(entries[i]);
        cursor = std::to_string(from + out.size());
        co_return out;
    }
};

class AuthServiceTest : public testing::Test {
  protected:
    AuthServiceTest() { users.by_email["alice@example.com"] = {7, HashPassword("right horse")}; }
    std::unique_ptr<AuthService> Instance() {
        return std::make_unique<AuthService>(users, throttle, log, codec, pool, settings,
                                             [this] { return now; });
    }
    template <class T>
    T Run(asio::awaitable<T> coro) {
        return test_support::RunToEnd(std::move(coro));
    }

    EpochMs now = 1'700'000'000'000;
    FakeUsers users;
    FakeThrottle throttle;
    FakeRevocationLog log;
    AccessTokenCodec codec{"unit-test secret of enough bytes"};
    BlockingPool pool{1};
    AuthSettings settings{
        .token_ttl_ms = 3'600'000, .login_max_attempts = 3, .login_window_ms = 60'000};
};

TEST_F(AuthServiceTest, LoginSignsATokenForTheUserWhateverTheCaseOfTheEmail) {
    auto auth = Instance();
    auto r = Run(auth->Login("Alice@Example.COM", "right horse"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->claims.user_id, 7);
    EXPECT_EQ(r->claims.expires_at, now + settings.token_ttl_ms);
    auto claims = auth->Authenticate(r->token);
    ASSERT_TRUE(claims) << claims.error().message;
    EXPECT_EQ(claims->user_id, 7);
}

TEST_F(AuthServiceTest, WrongPasswordAndUnknownEmailGetTheSameAnswer) {
    auto auth = Instance();
    auto wrong = Run(auth->Login("alice@example.com", "wrong horse"));
    auto unknown = Run(auth->Login("bob@example.com", "right horse"));
    ASSERT_FALSE(wrong);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(wrong.error().code, ErrorCode::kInvalidCredentials);
    EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidCredentials);
    EXPECT_EQ(wrong.error().message, unknown.error().message);
}

TEST_F(AuthServiceTest, TooManyAttemptsAreRefusedEvenWithTheRightPassword) {
    auto auth = Instance();
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(Run(auth->Login("alice@example.com", "guess")).error().code,
                  ErrorCode::kInvalidCredentials);
    auto r = Run(auth->Login("ALICE@example.com", "right horse"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kRateLimited);
    EXPECT_EQ(r.error().retry_after_s, 60);
}

TEST_F(AuthServiceTest, ASuccessStartsTheCountOver) {
    auto auth = Instance();
    EXPECT_FALSE(Run(auth->Login("alice@example.com", "guess")));
    EXPECT_FALSE(Run(auth->Login("alice@example.com", "guess")));
    EXPECT_TRUE(Run(auth->Login("alice@example.com", "right horse")));
    EXPECT_EQ(throttle.attempts.count("alice@example.com"), 0u);
}

TEST_F(AuthServiceTest, SignInWorksWhileTheThrottleIsUnreachable) {
    throttle.down = true;
    auto auth = Instance();
    EXPECT_TRUE(Run(auth->Login("alice@example.com", "right horse")));
}

TEST_F(AuthServiceTest, MintNeedsAnExistingUser) {
    auto auth = Instance();
    auto ok = Run(auth->Mint(7));
    ASSERT_TRUE(ok);
    EXPECT_EQ(auth->Authenticate(ok->token)->user_id, 7);
    auto missing = Run(auth->Mint(8));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kUserNotFound);
}

TEST_F(AuthServiceTest, LogoutIsRefusedHereAtOnceAndOnAnotherInstanceAfterItsSync) {
    auto here = Instance();
    auto there = Instance();
    auto token = Run(here->Mint(7));
    ASSERT_TRUE(token);
    ASSERT_TRUE(Run(here->Logout(token->claims)));
    EXPECT_FALSE(here->Authenticate(token->token));
    EXPECT_TRUE(there->Authenticate(token->token)) << "not synced yet";
    ASSERT_TRUE(Run(there->SyncRevocations()));
    auto r = there->Authenticate(token->token);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("revoked"), std::string::npos);
    // Another token of the same user is unaffected.
    auto other = Run(there->Mint(7));
    EXPECT_TRUE(there->Authenticate(other->token));
}

TEST_F(AuthServiceTest, ALogoutWhileTheLogIsDownReachesTheOthersOnceItIsBack) {
    auto here = Instance();
    auto there = Instance();
    auto token = Run(here->Mint(7));
    log.down = true;
    ASSERT_TRUE(Run(here->Logout(token->claims)));
    EXPECT_FALSE(here->Authenticate(token->token));
    EXPECT_FALSE(Run(here->SyncRevocations()));  // still down: kept for the next sync
    log.down = false;
    ASSERT_TRUE(Run(here->SyncRevocations()));
    ASSERT_EQ(log.entries.size(), 1u);
    ASSERT_TRUE(Run(there->SyncRevocations()));
    EXPECT_FALSE(there->Authenticate(token->token));
}

TEST_F(AuthServiceTest, AnInstanceStartedLaterLearnsEveryKeptRevocation) {
    auto first = Instance();
    std::vector<SignedToken> tokens;
    for (int i = 0; i < 2500; ++i) tokens.push_back(*Run(first->Mint(7)));
    for (const auto& t : tokens) ASSERT_TRUE(Run(first->Logout(t.claims)));
    auto later = Instance();
    ASSERT_TRUE(Run(later->SyncRevocations()));  // more than one read batch
    EXPECT_EQ(later->revoked_count(), 2500u);
    for (const auto& t : tokens) EXPECT_FALSE(later->Authenticate(t.token));
}

TEST_F(AuthServiceTest, RevocationsAreForgottenOnceTheirTokensExpired) {
    auto auth = Instance();
    auto token = Run(auth->Mint(7));
    ASSERT_TRUE(Run(auth->Logout(token->claims)));
    EXPECT_EQ(auth->revoked_count(), 1u);
    now += settings.token_ttl_ms;
    ASSERT_TRUE(Run(auth->SyncRevocations()));
    EXPECT_EQ(auth->revoked_count(), 0u);
    EXPECT_FALSE(auth->Authenticate(token->token));  // expired all the same
}

}  // namespace
}  // namespace joopang
