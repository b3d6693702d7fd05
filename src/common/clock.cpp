#include "common/clock.hpp"

#include <algorithm>
#include <chrono>

namespace joopang {

EpochMs NowMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

/// "YYYY-MM-DDTHH:MM:SS.mmmZ" of `ms` into buf[0..24).
void FormatRfc3339Into(char* buf, EpochMs ms) {
    using namespace std::chrono;
    const sys_time<milliseconds> t{milliseconds(ms)};
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> hms{t - day};
    auto put = [buf](int at, long v, int width) {
        for (int i = width - 1; i >= 0; --i, v /= 10) buf[at + i] = static_cast<char>('0' + v % 10);
    };
    int y = static_cast<int>(ymd.year());
    if (y < 0 || y > 9999) y = std::clamp(y, 0, 9999);  // outside RFC 3339's four digits
    put(0, y, 4);
    buf[4] = '-';
    put(5, static_cast<unsigned>(ymd.month()), 2);
    buf[7] = '-';
    put(8, static_cast<unsigned>(ymd.day()), 2);
    buf[10] = 'T';
    put(11, hms.hours().count(), 2);
    buf[13] = ':';
    put(14, hms.minutes().count(), 2);
    buf[16] = ':';
    put(17, static_cast<long>(hms.seconds().count()), 2);
    buf[19] = '.';
    put(20, hms.subseconds().count(), 3);
    buf[23] = 'Z';
}

}  // namespace

void AppendRfc3339(std::string& out, EpochMs ms) {
    // Calendar arithmetic instead of gmtime_r + snprintf: gmtime_r takes glibc's time-zone lock,
    // and this runs for every error body (most answers of a coupon drop are 409/410). Each
    // thread keeps the text of the last second it formatted: a drop formats "now" over and
    // over, and only the milliseconds change within a second.
    thread_local EpochMs cached_second = -1;
    thread_local char cached[24];
    if (ms < 0) {
        char buf[24];
        FormatRfc3339Into(buf, ms);
        out.append(buf, sizeof buf);
        return;
    }
    if (ms / 1000 != cached_second) {
        FormatRfc3339Into(cached, ms);
        cached_second = ms / 1000;
    }
    const int frac = static_cast<int>(ms % 1000);
    char tail[4] = {static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                    static_cast<char>('0' + frac % 10), 'Z'};
    out.append(cached, 20);  // up to and including the '.'
    out.append(tail, sizeof tail);
}

std::string FormatRfc3339(EpochMs ms) {
    std::string out;
    AppendRfc3339(out, ms);
    return out;
}

namespace {
bool Digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}
}  // namespace

std::optional<EpochMs> ParseRfc3339(std::string_view s) {
    int y, mo, d, h, mi, se;
    if (!Digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, mo) ||
        s[7] != '-' || !Digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !Digits(s, 11, 2, h) || s[13] != ':' || !Digits(s, 14, 2, mi) || s[16] != ':' ||
        !Digits(s, 17, 2, se))
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
    std::size_t pos = 19;
    int millis = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int scale = 100;
        std::size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            millis += (s[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
        if (pos == start) return std::nullopt;
    }
    int offset_min = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh, om;
        if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !Digits(s, pos + 4, 2, om))
            return std::nullopt;
        offset_min = (oh * 60 + om) * (s[pos] == '+' ? 1 : -1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    std::time_t t = timegm(&tm);
    return static_cast<EpochMs>(t - offset_min * 60) * 1000 + millis;
}

}  // namespace joopang
