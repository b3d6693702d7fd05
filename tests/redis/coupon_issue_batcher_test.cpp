// CouponIssueBatcher against a client whose calls throw (instead of returning an error): every
// request of the batch must still be answered. Needs a fake: a real client does not throw.
#include "infra/redis/coupon_issue_batcher.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <stdexcept>

#include "infra/redis/client.hpp"

namespace joopang::redis {
namespace {

namespace asio = boost::asio;

/// Every call throws, as a bug or an exhausted allocator would.
class ThrowingClient final : public Client {
  public:
    Awaitable<Result<Reply>> Command(Args, CallOptions) override { throw Boom(); }
    Awaitable<Result<std::vector<Reply>>> Batch(std::vector<Args>, CallOptions) override {
        throw Boom();
    }
    Awaitable<Result<Reply>> BlockingCommand(Args, CallOptions) override { throw Boom(); }
    Awaitable<Status> LoadScript(const Script&, CallOptions) override { throw Boom(); }
    Awaitable<Status> Ping(CallOptions) override { throw Boom(); }
    bool IsConnected() const override { return true; }
    void Close() override {}
    std::string Describe() const override { return "throwing"; }

  protected:
    Awaitable<Result<Reply>> CommandOnSlotNode(Args, int, CallOptions) override { throw Boom(); }
    Awaitable<Result<Reply>> SendEncoded(std::string_view, int, CallOptions) override {
        throw Boom();
    }
    Awaitable<Result<std::vector<Reply>>> SendPipeline(std::string_view,
                                                       std::size_t,
                                                       int,
                                                       CallOptions) override {
        throw Boom();
    }
    bool RoutesBySlot() const override { return false; }

  private:
    static std::runtime_error Boom() { return std::runtime_error("boom"); }
};

TEST(CouponIssueBatcher, AThrowingCallAnswersEveryRequestOfItsBatchWithAnError) {
    asio::io_context io;
    CouponIssueBatcher batcher(std::make_shared<ThrowingClient>(), 0);
    std::vector<std::optional<Result<IssueDecision>>> got(3);
    for (std::size_t i = 0; i < got.size(); ++i) {
        asio::co_spawn(io, batcher.Issue(1, static_cast<std::int64_t>(i + 1)),
                       [&got, i](std::exception_ptr e, Result<IssueDecision> d) {
                           if (e) std::rethrow_exception(e);
                           got[i] = std::move(d);
                       });
    }
    io.run();
    for (const auto& g : got) {
        ASSERT_TRUE(g.has_value()) << "a request was never answered";
        ASSERT_FALSE(*g);
        EXPECT_EQ(g->error().code, ErrorCode::kUnavailable);
        EXPECT_NE(g->error().message.find("boom"), std::string::npos) << g->error().message;
    }
}

}  // namespace
}  // namespace joopang::redis
