#include "infra/sql/timed_db.hpp"

#include <chrono>

#include "observability/metrics.hpp"

namespace joopang::sql {
namespace {

obs::Histogram& Transactions(const char* mode) {
    return obs::Registry::Global().GetHistogram(
        "joopang_db_transaction_duration_seconds",
        "Database transactions as callers wait for them (pool wait and retries included), by mode",
        {{"mode", mode}});
}

class TimedDb final : public Db {
  public:
    explicit TimedDb(std::unique_ptr<Db> db)
        : db_(std::move(db)),
          none_(Transactions("none")),
          read_(Transactions("read")),
          write_(Transactions("write")) {}

    Dialect dialect() const override { return db_->dialect(); }

    Status Run(TxMode mode, const std::function<Status(Connection&)>& fn) override {
        const auto start = std::chrono::steady_clock::now();
        Status st = db_->Run(mode, fn);
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
        (mode == TxMode::kWrite ? write_ : mode == TxMode::kRead ? read_ : none_).ObserveNs(ns);
        return st;
    }

    Status Ping() override { return db_->Ping(); }

  private:
    std::unique_ptr<Db> db_;
    obs::Histogram& none_;
    obs::Histogram& read_;
    obs::Histogram& write_;
};

}  // namespace

std::unique_ptr<Db> Timed(std::unique_ptr<Db> db) {
    return std::make_unique<TimedDb>(std::move(db));
}

}  // namespace joopang::sql
