#include "spec/quantity.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace axon::spec {
namespace {

using Int128 = __int128;

// A non-negative decimal number: mantissa / 10^scale.
struct Decimal {
  Int128 mantissa = 0;
  int scale = 0;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads "12", "1.5", ".5" or "3." from the front of `text`; advances `text` past it. Returns
// nullopt when no digit is found or the number has more digits than we can hold.
std::optional<Decimal> ReadDecimal(std::string_view& text) {
  Decimal d;
  size_t i = 0;
  int digits = 0;
  bool seen_dot = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && !seen_dot) {
      seen_dot = true;
      continue;
    }
    if (!IsDigit(c)) break;
    if (++digits > 36) return std::nullopt;
    d.mantissa = d.mantissa * 10 + (c - '0');
    if (seen_dot) ++d.scale;
  }
  if (digits == 0) return std::nullopt;
  text.remove_prefix(i);
  return d;
}

// `d * unit` as an exact int64; nullopt on overflow, `fraction` set when not a whole number.
std::optional<int64_t> ScaleExact(const Decimal& d, int64_t unit, bool* fraction) {
  Int128 product = 0;
  if (__builtin_mul_overflow(d.mantissa, static_cast<Int128>(unit), &product)) return std::nullopt;
  Int128 divisor = 1;
  for (int i = 0; i < d.scale; ++i) divisor *= 10;
  *fraction = product % divisor != 0;
  Int128 value = product / divisor;
  if (value > std::numeric_limits<int64_t>::max()) return std::nullopt;
  return static_cast<int64_t>(value);
}

std::optional<int64_t> DurationUnitMillis(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60'000;
  if (unit == "h") return 3'600'000;
  return std::nullopt;
}

constexpr std::string_view kDurationHelp =
    "must be a duration like \"30s\", \"5m\" or \"1m30s\" (units: ms, s, m, h)";

}  // namespace

StatusOr<Millis> ParseDuration(std::string_view text) {
  if (!text.empty() && text[0] == '-') {
    return InvalidArgument("must not be negative; write a duration like \"30s\" or \"5m\"");
  }
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  if (text == "0") return Millis(0);
  if (text.empty()) return InvalidArgument(std::string(kDurationHelp));
  const std::string_view whole = text;
  int64_t total = 0;
  bool fraction_left = false;
  while (!text.empty()) {
    std::optional<Decimal> number = ReadDecimal(text);
    if (!number) return InvalidArgument(std::string(kDurationHelp));
    size_t unit_len = 0;
    while (unit_len < text.size() && !IsDigit(text[unit_len]) && text[unit_len] != '.') ++unit_len;
    std::string_view unit = text.substr(0, unit_len);
    text.remove_prefix(unit_len);
    if (unit.empty()) {
      const std::string example = ParseNumber(whole) ? std::string(whole) : "10";
      return InvalidArgument("needs a unit: write e.g. \"" + example + "s\" for " + example +
                             " seconds (units: ms, s, m, h)");
    }
    std::optional<int64_t> unit_ms = DurationUnitMillis(unit);
    if (!unit_ms) {
      return InvalidArgument("has unknown unit \"" + std::string(unit) + "\"; " +
                             std::string(kDurationHelp));
    }
    bool fraction = false;
    std::optional<int64_t> part = ScaleExact(*number, *unit_ms, &fraction);
    if (!part || __builtin_add_overflow(total, *part, &total)) {
      return InvalidArgument("is too large; " + std::string(kDurationHelp));
    }
    fraction_left = fraction_left || fraction;
  }
  if (fraction_left) return InvalidArgument("must be a whole number of milliseconds");
  return Millis(total);
}

StatusOr<Millis> ParsePositiveDuration(std::string_view text) {
  StatusOr<Millis> d = ParseDuration(text);
  if (d.ok() && d->count() == 0) return InvalidArgument("must be a duration > 0 like \"60s\"");
  return d;
}

StatusOr<int64_t> ParseCpuMillis(std::string_view text) {
  const std::string help = "must be a CPU quantity > 0 like \"200m\", \"1\" or 0.5";
  std::string_view rest = text;
  std::optional<Decimal> number = ReadDecimal(rest);
  int64_t unit = 1000;
  if (rest == "m") {
    unit = 1;
    rest.remove_prefix(1);
  }
  if (!number || !rest.empty()) return InvalidArgument(help);
  bool fraction = false;
  std::optional<int64_t> millis = ScaleExact(*number, unit, &fraction);
  if (!millis) return InvalidArgument("is too large; " + help);
  if (fraction) return InvalidArgument("must be a whole number of millicores (1m = 0.001 CPU)");
  if (*millis <= 0) return InvalidArgument(help);
  return *millis;
}

namespace {

std::optional<int64_t> MemorySuffixBytes(std::string_view suffix) {
  constexpr int64_t kKi = 1024;
  if (suffix.empty()) return 1;
  if (suffix == "Ki") return kKi;
  if (suffix == "Mi") return kKi * kKi;
  if (suffix == "Gi") return kKi * kKi * kKi;
  if (suffix == "Ti") return kKi * kKi * kKi * kKi;
  if (suffix == "Pi") return kKi * kKi * kKi * kKi * kKi;
  if (suffix == "Ei") return kKi * kKi * kKi * kKi * kKi * kKi;
  if (suffix == "k") return 1'000;
  if (suffix == "M") return 1'000'000;
  if (suffix == "G") return 1'000'000'000;
  if (suffix == "T") return 1'000'000'000'000;
  if (suffix == "P") return 1'000'000'000'000'000;
  if (suffix == "E") return 1'000'000'000'000'000'000;
  return std::nullopt;
}

}  // namespace

StatusOr<int64_t> ParseMemoryBytes(std::string_view text) {
  const std::string help =
      "must be a memory quantity > 0 like \"512Mi\", \"1Gi\", \"500M\" or a number of bytes";
  std::string_view rest = text;
  std::optional<Decimal> number = ReadDecimal(rest);
  if (!number) return InvalidArgument(help);
  std::optional<int64_t> unit = MemorySuffixBytes(rest);
  if (!unit) {
    std::string hint = rest == "K" ? "use \"k\" for 1000 or \"Ki\" for 1024"
                                   : "use Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P or E";
    return InvalidArgument("has unknown suffix \"" + std::string(rest) + "\" (" + hint + "); " +
                           help);
  }
  bool fraction = false;
  std::optional<int64_t> bytes = ScaleExact(*number, *unit, &fraction);
  if (!bytes) return InvalidArgument("is too large; " + help);
  if (fraction) return InvalidArgument("must be a whole number of bytes");
  if (*bytes <= 0) return InvalidArgument(help);
  return *bytes;
}

StatusOr<CountOrPercent> ParseCountOrPercent(std::string_view text) {
  const std::string help = "must be an integer >= 0 or a percentage like \"25%\"";
  if (!text.empty() && text.back() == '%') {
    std::optional<int64_t> pct = ParseInteger(text.substr(0, text.size() - 1));
    if (!pct) return InvalidArgument(help);
    if (*pct < 0 || *pct > 100) return InvalidArgument("must be a percentage from 0% to 100%");
    return CountOrPercent{*pct, true};
  }
  std::optional<int64_t> count = ParseInteger(text);
  if (!count || *count < 0) return InvalidArgument(help);
  return CountOrPercent{*count, false};
}

std::optional<int64_t> ParseInteger(std::string_view text) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  if (text.empty() || (text[0] == '-' && text.size() == 1)) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> ParseNumber(std::string_view text) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  std::string_view rest = text;
  if (!rest.empty() && rest[0] == '-') rest.remove_prefix(1);
  // Only plain decimal notation: from_chars alone would also take "inf", "nan" and hex.
  if (!ReadDecimal(rest)) return std::nullopt;
  if (!rest.empty() && (rest[0] == 'e' || rest[0] == 'E')) {
    rest.remove_prefix(1);
    if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) rest.remove_prefix(1);
    if (rest.empty() || !IsDigit(rest[0])) return std::nullopt;
    while (!rest.empty() && IsDigit(rest[0])) rest.remove_prefix(1);
  }
  if (!rest.empty()) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace axon::spec
