// A gtest fixture for spec parsing tests: a temporary folder per test holding a real
// predictor.py, and a matcher for one error of a parse. Test-only.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "spec/spec_parser.h"

namespace axon::spec {

// Gives each test its own temporary folder holding a real predictor.py.
class SpecFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("axon_spec_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
            std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    Write("predictor.py",
          "class PythonPredictor:\n    def predict(self, payload):\n"
          "        return payload\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path Write(const std::filesystem::path& name, std::string_view text) {
    std::filesystem::path path = dir_ / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  ParseResult Parse(std::string_view yaml) { return ParseSpecFile(Write("axon.yaml", yaml)); }

  std::filesystem::path dir_;
};

// Whether one error mentions `location` (e.g. "axon.yaml:7: "), `field` and `phrase`.
inline ::testing::AssertionResult HasError(const ParseResult& result, const std::string& location,
                                           const std::string& field, const std::string& phrase) {
  for (const SpecError& error : result.errors) {
    const std::string text = error.ToString();
    if (text.find(location) != std::string::npos &&
        (field.empty() || text.find(field + ": ") != std::string::npos) &&
        text.find(phrase) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure()
         << "no error with [" << location << "] [" << field << "] [" << phrase << "] in:\n"
         << result.ErrorText();
}

}  // namespace axon::spec
