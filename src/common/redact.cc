#include "common/redact.h"

#include <vector>

namespace axon {
namespace {

constexpr size_t kMaxLength = 400;

std::vector<std::string_view> NonEmptyLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

bool StartsPath(std::string_view text, size_t i) {
  if (text[i] != '/') return false;
  if (i > 0) {
    const char before = text[i - 1];
    if (before != ' ' && before != '\'' && before != '"' && before != '(' && before != '[' &&
        before != '=' && before != ':' && before != '\t' && before != '`') {
      return false;  // "a/b", "http://": not an absolute path on its own
    }
    if (before == ':' && i >= 2 && text[i - 2] != ' ' && i + 1 < text.size() &&
        text[i + 1] == '/') {
      return false;  // "scheme://"
    }
  }
  // An absolute path has at least two segments ("/a/b"); "/iris" stays (endpoints).
  size_t j = i + 1;
  while (j < text.size() && text[j] != '/' && text[j] != ' ' && text[j] != '\'' && text[j] != '"' &&
         text[j] != ')' && text[j] != ']' && text[j] != ',') {
    ++j;
  }
  return j > i + 1 && j < text.size() && text[j] == '/';
}

size_t PathEnd(std::string_view text, size_t i) {
  while (i < text.size() && text[i] != ' ' && text[i] != '\'' && text[i] != '"' && text[i] != ')' &&
         text[i] != ']' && text[i] != ',' && text[i] != '\t' && text[i] != '`') {
    ++i;
  }
  if (i > 0 && (text[i - 1] == '.' || text[i - 1] == ':')) --i;  // sentence punctuation
  return i;
}

}  // namespace

std::string PublicMessage(std::string_view detail) {
  const std::vector<std::string_view> lines = NonEmptyLines(detail);
  if (lines.empty()) return "internal error";
  const bool traceback = detail.find("Traceback") != std::string_view::npos;
  std::string_view line = traceback ? lines.back() : lines.front();
  if (traceback && line.find("Error") == std::string_view::npos) line = lines.front();
  std::string out;
  for (size_t i = 0; i < line.size();) {
    if (StartsPath(line, i)) {
      out += "<path>";
      i = PathEnd(line, i);
    } else {
      out += line[i++];
    }
  }
  if (out.size() > kMaxLength) {
    out.resize(kMaxLength - 3);
    out += "...";
  }
  return out;
}

}  // namespace axon
