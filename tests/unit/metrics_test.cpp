#include "observability/metrics.hpp"

#include <gtest/gtest.h>

using namespace joopang::obs;

TEST(Metrics, RendersCountersAndCumulativeHistogramBuckets) {
    Registry r;
    r.GetCounter("req_total", "requests", {{"route", "/a"}, {"status", "200"}}).Add(3);
    auto& h = r.GetHistogram("lat_seconds", "latency", {{"route", "/a"}});
    h.ObserveNs(50'000);          // 50 µs
    h.ObserveNs(2'000'000);       // 2 ms
    h.ObserveNs(20'000'000'000);  // 20 s, beyond the last bucket
    std::string text = r.RenderPrometheus();
    EXPECT_NE(text.find("# TYPE req_total counter"), std::string::npos);
    EXPECT_NE(text.find("req_total{route=\"/a\",status=\"200\"} 3"), std::string::npos);
    EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"0.0001\"} 1"), std::string::npos);
    EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"0.0025\"} 2"), std::string::npos);
    EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3"), std::string::npos);
    EXPECT_NE(text.find("lat_seconds_count{route=\"/a\"} 3"), std::string::npos);
}

TEST(Metrics, EscapesLabelValues) {
    EXPECT_EQ(RenderLabels({{"k", "a\"b\\c\nd"}}), "{k=\"a\\\"b\\\\c\\nd\"}");
}

TEST(Metrics, SameSeriesIsReturnedForSameLabels) {
    Registry r;
    auto& a = r.GetCounter("c", "h", {{"x", "1"}});
    auto& b = r.GetCounter("c", "h", {{"x", "1"}});
    EXPECT_EQ(&a, &b);
}
