#include "common/log_line.h"

#include <ctime>

namespace axon {
namespace {

constexpr std::string_view kHex = "0123456789abcdef";

// Length of the valid UTF-8 sequence at the start of `s`, or 0 if it is not one.
size_t Utf8Length(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;
    if (c == 0xF4 && b(1) >= 0x90) return 0;
    return 4;
  }
  return 0;
}

void Append(fmt::memory_buffer& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

void AppendStringMember(fmt::memory_buffer& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  out.push_back(',');
  AppendJsonString(out, key);
  out.push_back(':');
  AppendJsonString(out, value);
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int> Digits(std::string_view text, size_t pos, size_t count) {
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// `value` (>= 0) in decimal, zero-padded to `width` digits. By hand rather than with fmt's
// formatting functions: the CLI, which links fmt header-only, uses this file too.
void AppendNumber(fmt::memory_buffer& out, int64_t value, int width = 1) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && n < 20);
  for (int i = n; i < width; ++i) out.push_back('0');
  while (n > 0) out.push_back(digits[--n]);
}

// "2026-12-02T07:49:12.345Z"; times before 1970 are written as 1970's first millisecond.
void AppendTime(fmt::memory_buffer& out, int64_t time_ms) {
  if (time_ms < 0) time_ms = 0;
  const auto seconds = static_cast<std::time_t>(time_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  AppendNumber(out, tm.tm_year + 1900, 4);
  out.push_back('-');
  AppendNumber(out, tm.tm_mon + 1, 2);
  out.push_back('-');
  AppendNumber(out, tm.tm_mday, 2);
  out.push_back('T');
  AppendNumber(out, tm.tm_hour, 2);
  out.push_back(':');
  AppendNumber(out, tm.tm_min, 2);
  out.push_back(':');
  AppendNumber(out, tm.tm_sec, 2);
  out.push_back('.');
  AppendNumber(out, time_ms % 1000, 3);
  out.push_back('Z');
}

std::string Scalar(const nlohmann::ordered_json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

}  // namespace

void AppendJsonString(fmt::memory_buffer& out, std::string_view text) {
  out.push_back('"');
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      Append(out, "\\n");
    } else if (c == '\t') {
      Append(out, "\\t");
    } else if (c == '\r') {
      Append(out, "\\r");
    } else if (c < 0x20 || c == 0x7F) {
      Append(out, "\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else if (c >= 0x80) {
      const size_t n = Utf8Length(text.substr(i));
      if (n == 0) {
        Append(out, "\\ufffd");
        ++i;
        continue;
      }
      Append(out, text.substr(i, n));
      i += n;
      continue;
    } else {
      out.push_back(static_cast<char>(c));
    }
    ++i;
  }
  out.push_back('"');
}

std::string FormatLogTime(int64_t time_ms) {
  fmt::memory_buffer out;
  AppendTime(out, time_ms);
  return std::string(out.data(), out.size());
}

std::optional<int64_t> ParseUtcTimeNs(std::string_view t) {
  // 2026-12-02T07:49:12[.123456789]Z
  if (t.size() < 20 || t.size() > 30 || t.size() == 21 || t[4] != '-' || t[7] != '-' ||
      t[10] != 'T' || t[13] != ':' || t[16] != ':' || t.back() != 'Z' ||
      (t.size() > 20 && t[19] != '.')) {
    return std::nullopt;
  }
  const auto year = Digits(t, 0, 4), month = Digits(t, 5, 2), day = Digits(t, 8, 2),
             hour = Digits(t, 11, 2), minute = Digits(t, 14, 2), second = Digits(t, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return std::nullopt;
  }
  int64_t fraction_ns = 0;
  if (t.size() > 20) {
    const size_t digits = t.size() - 21;
    const auto fraction = Digits(t, 20, digits);
    if (!fraction) return std::nullopt;
    fraction_ns = *fraction;
    for (size_t i = digits; i < 9; ++i) fraction_ns *= 10;
  }
  const int64_t days =
      DaysFromCivil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  const int64_t seconds = ((days * 24 + *hour) * 60 + *minute) * 60 + *second;
  return seconds * 1'000'000'000 + fraction_ns;
}

std::optional<int64_t> ParseLogTime(std::string_view t) {
  // 2026-12-02T07:49:12.345Z: exactly three digits of fraction
  if (t.size() != 24) return std::nullopt;
  const auto ns = ParseUtcTimeNs(t);
  if (!ns) return std::nullopt;
  return *ns / 1'000'000;
}

void AppendLogLine(fmt::memory_buffer& out, const LogFields& f, std::string_view extra) {
  Append(out, "{\"time\":\"");
  AppendTime(out, f.time_ms);
  out.push_back('"');
  AppendStringMember(out, "level", f.level);
  AppendStringMember(out, "source", f.source);
  AppendStringMember(out, "api", f.api);
  if (f.version > 0) {
    Append(out, ",\"version\":");
    AppendNumber(out, f.version);
  }
  AppendStringMember(out, "replica", f.replica);
  AppendStringMember(out, "request_id", f.request_id);
  Append(out, ",\"message\":");
  AppendJsonString(out, f.message);
  if (!extra.empty()) {
    out.push_back(',');
    Append(out, extra);
  }
  Append(out, "}\n");
}

ParsedLogLine ParseLogLine(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  ParsedLogLine parsed{.raw = line};
  if (line.empty() || line.front() != '{') return parsed;
  auto json = nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return parsed;
  const auto time = json.find("time");
  const auto message = json.find("message");
  if (time == json.end() || !time->is_string() || message == json.end() || !message->is_string()) {
    return parsed;
  }
  const auto ms = ParseLogTime(time->get<std::string>());
  if (!ms) return parsed;
  parsed.time_ms = *ms;
  if (const auto r = json.find("replica"); r != json.end() && r->is_string()) parsed.replica = *r;
  parsed.json = std::move(json);
  return parsed;
}

std::string HumanLogLine(const ParsedLogLine& line) {
  if (!line.structured()) return std::string(line.raw);
  const nlohmann::ordered_json& j = line.json;
  std::string time = j["time"].get<std::string>();
  time[10] = ' ';
  time.pop_back();  // the Z: every time is UTC
  const std::string level = j.contains("level") ? Scalar(j["level"]) : "info";
  std::string who = line.replica;
  if (who.empty() && j.contains("source")) who = Scalar(j["source"]);
  std::string out = time + " " + level;
  if (level.size() < 5) out.append(5 - level.size(), ' ');
  out += " " + (who.empty() ? std::string("-") : who) + " " + j["message"].get<std::string>();
  for (const auto& [key, value] : j.items()) {
    if (key == "time" || key == "level" || key == "source" || key == "api" || key == "version" ||
        key == "replica" || key == "message" || key == "stream") {
      continue;
    }
    out += " " + key + "=" + Scalar(value);
  }
  return out;
}

bool LogFilter::Keep(const ParsedLogLine& line) {
  if (!line.structured()) return !Active() || keep_raw_;
  keep_raw_ = line.time_ms >= since_ms_ && (replica_.empty() || line.replica == replica_);
  return keep_raw_;
}

}  // namespace axon
