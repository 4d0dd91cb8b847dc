#include "operator/api_logs.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <fstream>
#include <limits>

#include <fmt/format.h>

#include "common/files.h"
#include "common/log_line.h"
#include "http/url.h"

namespace axon::operator_ {
namespace {

constexpr int64_t kMaxChunk = 1 << 20;

std::filesystem::path Numbered(const std::filesystem::path& live, int k) {
  return k == 0 ? live : std::filesystem::path(live.string() + "." + std::to_string(k));
}

int64_t SizeOf(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? -1 : static_cast<int64_t>(size);
}

// How many rotated copies exist (path.1 ... path.N).
int RotatedCount(const std::filesystem::path& live) {
  int n = 0;
  while (n < kOldestRotated && SizeOf(Numbered(live, n + 1)) >= 0) ++n;
  return n;
}

// The position just past the last '\n' among the first `size` bytes of `in` (0 if none).
int64_t EndOfLastLine(std::ifstream& in, int64_t size) {
  char block[4096];
  for (int64_t end = size; end > 0;) {
    const int64_t start = std::max<int64_t>(0, end - static_cast<int64_t>(sizeof block));
    in.clear();
    in.seekg(start);
    in.read(block, end - start);
    const auto got = static_cast<int64_t>(in.gcount());
    for (int64_t i = got; i > 0; --i) {
      if (block[i - 1] == '\n') return start + i;
    }
    if (got < end - start) return 0;  // the file shrank under us (rotated): nothing whole
    end = start;
  }
  return 0;
}

// Feeds the lines of `text` (each ending in '\n') to `filter`; calls `keep` with each kept one.
template <typename Keep>
void ForEachKept(std::string_view text, LogFilter& filter, Keep keep) {
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line =
        text.substr(0, end == std::string_view::npos ? text.size() : end + 1);
    text.remove_prefix(line.size());
    if (filter.Keep(ParseLogLine(line))) keep(line);
  }
}

nlohmann::json Answer(std::string text, int rotated, int64_t offset, bool raw_kept, bool more) {
  return {
      {"text", std::move(text)},
      {"next", fmt::format("offset={}&rotated={}&raw_kept={}", offset, rotated, raw_kept ? 1 : 0)},
      {"more", more}};
}

nlohmann::json Tail(const std::filesystem::path& live, const LogQuery& query) {
  const auto tail = static_cast<size_t>(std::max<int64_t>(query.tail, 0));
  std::ifstream in(live, std::ios::binary);
  const int64_t end = in ? EndOfLastLine(in, std::max<int64_t>(SizeOf(live), 0)) : 0;
  const int rotated = RotatedCount(live);
  LogFilter filter(query.since_ms, query.replica);
  std::string text;
  if (!filter.Active()) {
    text = TailText(in, end, tail);
    for (int k = 1; k <= rotated; ++k) {
      const auto have = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
      if (have >= tail) break;
      text = TailFile(Numbered(live, k), tail - have) + text;
    }
  } else {
    // Every file, oldest first, so that plain lines follow the decision on the line before.
    std::deque<std::string> kept;
    for (int k = rotated; k >= 0; --k) {
      std::ifstream file(Numbered(live, k), std::ios::binary);
      int64_t left = k == 0 ? end : std::numeric_limits<int64_t>::max();
      for (std::string line; left > 0 && std::getline(file, line);) {
        left -= static_cast<int64_t>(line.size()) + 1;
        if (!filter.Keep(ParseLogLine(line))) continue;
        kept.push_back(line + "\n");
        if (kept.size() > tail) kept.pop_front();
      }
    }
    for (const auto& line : kept) text += line;
  }
  return Answer(std::move(text), 0, end, filter.raw_kept(), false);
}

int64_t ToInt(const std::string& value, int64_t fallback) {
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  return ec == std::errc() && end == value.data() + value.size() ? n : fallback;
}

}  // namespace

LogQuery ParseLogQuery(std::string_view query) {
  LogQuery q;
  for (const auto& [k, v] : http::ParseQuery(query)) {
    if (k == "offset") q.offset = ToInt(v, q.offset);
    if (k == "rotated")
      q.rotated = static_cast<int>(std::clamp<int64_t>(ToInt(v, 0), 0, kOldestRotated));
    if (k == "raw_kept") q.raw_kept = ToInt(v, 0) != 0;
    if (k == "tail") q.tail = ToInt(v, q.tail);
    if (k == "since_ms") q.since_ms = ToInt(v, q.since_ms);
    if (k == "replica") q.replica = v;
    if (k == "job") q.job = v;
    if (k == "after_ns") q.after_ns = ToInt(v, q.after_ns);
    if (k == "from" && v == "start") {
      q.offset = 0;
      q.rotated = kOldestRotated;
    }
  }
  return q;
}

nlohmann::json ReadApiLog(const std::filesystem::path& path, const LogQuery& query) {
  if (query.offset < 0) return Tail(path, query);
  int k = std::min(std::clamp(query.rotated, 0, kOldestRotated), RotatedCount(path));
  int64_t offset = query.offset;
  int64_t size = SizeOf(Numbered(path, k));
  while (k > 0 && size < 0) {  // that copy is gone (or never was): the next newer one
    size = SizeOf(Numbered(path, --k));
    offset = 0;
  }
  if (size < 0) return Answer("", 0, 0, false, false);  // no log yet
  if (k == 0 && offset > size) {
    // Rotated since the last read: what followed `offset` is in the first copy.
    const int64_t copied = SizeOf(Numbered(path, 1));
    if (copied >= offset) {
      k = 1;
      size = copied;
    } else {
      offset = 0;
    }
  }
  offset = std::min(offset, size);
  std::ifstream in(Numbered(path, k), std::ios::binary);
  in.seekg(offset);
  std::string chunk(static_cast<size_t>(std::min(kMaxChunk, size - offset)), '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<size_t>(in.gcount()));
  const bool full = static_cast<int64_t>(chunk.size()) == kMaxChunk;
  offset += static_cast<int64_t>(chunk.size());
  if (k > 0 && offset >= size) {
    // A rotated copy is complete: its last line goes out even without its '\n'.
    if (!chunk.empty() && chunk.back() != '\n') chunk += '\n';
  } else if (const size_t last_newline = chunk.rfind('\n'); last_newline != std::string::npos) {
    offset -= static_cast<int64_t>(chunk.size() - (last_newline + 1));  // whole lines only
    chunk.resize(last_newline + 1);
  } else if (!full) {
    offset -= static_cast<int64_t>(chunk.size());  // a line still being written: next time
    chunk.clear();
  }  // else: a line longer than a chunk, passed on in pieces
  LogFilter filter(query.since_ms, query.replica, query.raw_kept);
  std::string text;
  ForEachKept(chunk, filter, [&](std::string_view line) { text.append(line); });
  if (k > 0 && offset >= size) {  // done with this copy: on to the next newer file
    return Answer(std::move(text), k - 1, 0, filter.raw_kept(), true);
  }
  return Answer(std::move(text), k, offset, filter.raw_kept(), k > 0 || full);
}

}  // namespace axon::operator_
