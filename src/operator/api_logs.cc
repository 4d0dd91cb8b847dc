#include "operator/api_logs.h"

#include <algorithm>
#include <deque>
#include <fstream>

#include "common/files.h"
#include "common/log_line.h"

namespace axon::operator_ {
namespace {

constexpr int64_t kMaxChunk = 1 << 20;

// Appends the lines of `text` (each ending in '\n') that `filter` keeps.
void AppendKept(std::string_view text, LogFilter& filter, std::string* out) {
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line =
        text.substr(0, end == std::string_view::npos ? text.size() : end + 1);
    text.remove_prefix(line.size());
    if (filter.Keep(ParseLogLine(line))) out->append(line);
  }
}

// The last `tail` lines of the file that `filter` keeps (the whole file is scanned).
std::string FilteredTail(const std::filesystem::path& path, int64_t tail, LogFilter& filter) {
  std::ifstream in(path, std::ios::binary);
  std::deque<std::string> kept;
  for (std::string line; std::getline(in, line);) {
    if (!filter.Keep(ParseLogLine(line))) continue;
    kept.push_back(line + "\n");
    if (static_cast<int64_t>(kept.size()) > tail) kept.pop_front();
  }
  std::string out;
  for (const auto& line : kept) out += line;
  return out;
}

}  // namespace

nlohmann::json ReadApiLog(const std::filesystem::path& path, const LogQuery& query) {
  std::error_code ec;
  const auto size = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  if (ec) return {{"text", ""}, {"offset", 0}, {"size", 0}};
  LogFilter filter(query.since_ms, query.replica);
  if (query.offset < 0) {
    const int64_t tail = std::max<int64_t>(query.tail, 0);
    std::string text = filter.Active() ? FilteredTail(path, tail, filter)
                                       : TailFile(path, static_cast<size_t>(tail));
    return {{"text", std::move(text)}, {"offset", size}, {"size", size}};
  }
  int64_t offset = query.offset > size ? 0 : query.offset;  // rotated: start over
  std::ifstream in(path, std::ios::binary);
  in.seekg(offset);
  std::string chunk(static_cast<size_t>(std::min(kMaxChunk, size - offset)), '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<size_t>(in.gcount()));
  // Whole lines only; a line longer than a chunk is passed on in pieces.
  const size_t last_newline = chunk.rfind('\n');
  if (last_newline != std::string::npos) {
    chunk.resize(last_newline + 1);
  } else if (static_cast<int64_t>(chunk.size()) < kMaxChunk) {
    chunk.clear();
  }
  std::string text;
  AppendKept(chunk, filter, &text);
  offset += static_cast<int64_t>(chunk.size());
  return {{"text", std::move(text)}, {"offset", offset}, {"size", size}};
}

}  // namespace axon::operator_
