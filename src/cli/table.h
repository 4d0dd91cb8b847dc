// Plain-text tables for the CLI, columns padded to their widest cell. Not thread-safe.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace axon::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// "42s", "3m", "5h", "2d" since `unix_seconds`; "-" for 0.
std::string Ago(int64_t unix_seconds);

}  // namespace axon::cli
