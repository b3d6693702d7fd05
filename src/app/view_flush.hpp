#pragma once
/// Writes the product views counted in memory (ViewCounter) to the database in one batch; on a
/// failure the counts go back to the counter for the next flush, so none is lost while the
/// process lives.

#include "app/ports/catalog_repository.hpp"
#include "app/view_counter.hpp"

namespace joopang {

class ViewFlush {
  public:
    ViewFlush(ViewCounter& views, CatalogRepository& catalog) : views_(views), catalog_(catalog) {}

    /// Blocking (database).
    Status Flush() {
        auto counts = views_.Drain();
        if (counts.empty()) return {};
        auto st = catalog_.AddViews(counts);
        if (!st) views_.Restore(counts);
        return st;
    }

  private:
    ViewCounter& views_;
    CatalogRepository& catalog_;
};

}  // namespace joopang
