#include "domain/ranking.hpp"

#include <charconv>
#include <cmath>
#include <string>

namespace joopang {

const std::array<RankingWindow, 4>& RankingWindows() {
    constexpr EpochMs kMinute = 60'000, kHour = 60 * kMinute, kDay = 24 * kHour;
    static const std::array<RankingWindow, 4> kWindows = {{
        {"1h", "h1", kMinute, 60, 2 * kHour},
        {"24h", "d1", kHour, 24, 50 * kHour},
        {"3d", "d3", kDay, 3, 4 * kDay},
        {"7d", "d7", kDay, 7, 8 * kDay},
    }};
    return kWindows;
}

std::optional<RankingWindow> FindRankingWindow(std::string_view name) {
    for (const auto& w : RankingWindows())
        if (w.name == name) return w;
    return std::nullopt;
}

std::optional<RankingWeights> ParseRankingWeights(std::string_view text, RankingWeights out) {
    while (!text.empty()) {
        auto comma = text.find(',');
        std::string_view part = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        auto eq = part.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        std::string_view key = part.substr(0, eq);
        std::string value(part.substr(eq + 1));
        char* end = nullptr;
        double v = std::strtod(value.c_str(), &end);
        if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(v) || v < 0)
            return std::nullopt;
        if (key == "sales")
            out.sales = v;
        else if (key == "revenue")
            out.revenue = v;
        else if (key == "views")
            out.views = v;
        else
            return std::nullopt;
    }
    return out;
}

}  // namespace joopang
