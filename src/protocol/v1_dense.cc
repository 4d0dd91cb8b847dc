#include "protocol/v1_dense.h"

#include <charconv>
#include <cstring>
#include <vector>

namespace axon::protocol {
namespace {

// Reads the body left to right; every method returns false at the first thing it does not
// expect, and the caller gives up.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool Eat(char c) {
    SkipSpace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool EatString(std::string_view s) {  // "s" written without escapes
    if (!Eat('"') || static_cast<size_t>(end_ - p_) < s.size() + 1 ||
        std::memcmp(p_, s.data(), s.size()) != 0 || p_[s.size()] != '"') {
      return false;
    }
    p_ += s.size() + 1;
    return true;
  }
  bool AtEnd() {
    SkipSpace();
    return p_ == end_;
  }
  // One number of JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool Number(double* out) {
    SkipSpace();
    const char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (!Digits()) {
      return false;
    }
    bool integer = true;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      integer = false;
      if (!Digits()) return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      integer = false;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!Digits()) return false;
    }
    const auto [last, error] = std::from_chars(start, p_, *out);
    if (error != std::errc() || last != p_) return false;  // out of range: the general decoder
    if (integer && *out == 0) *out = 0;  // JSON parsers read "-0" as the integer 0
    return true;
  }

 private:
  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool Digits() {
    const char* start = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ != start;
  }

  const char* p_;
  const char* end_;
};

// One instance: nested lists of exactly `shape[depth:]` with numbers at the bottom, appended
// to `out` as T.
template <typename T>
bool ReadInstance(Cursor& in, const tensor::Shape& shape, size_t depth,
                  std::vector<std::byte>& out) {
  if (depth == shape.size()) {
    double v = 0;
    if (!in.Number(&v)) return false;
    const T value = static_cast<T>(v);
    const size_t at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, &value, sizeof(T));
    return true;
  }
  if (!in.Eat('[')) return false;
  for (int64_t i = 0; i < shape[depth]; ++i) {
    if (i > 0 && !in.Eat(',')) return false;
    if (!ReadInstance<T>(in, shape, depth + 1, out)) return false;
  }
  return in.Eat(']');
}

template <typename T>
std::optional<tensor::Tensor> Decode(std::string_view body, const tensor::TensorInfo& input,
                                     const tensor::Shape& instance) {
  Cursor in(body);
  if (!in.Eat('{') || !in.EatString("instances") || !in.Eat(':') || !in.Eat('[')) {
    return std::nullopt;
  }
  tensor::Tensor out{.name = input.name, .dtype = input.dtype, .shape = {0}, .data = {}};
  // Every element but the last takes two bytes of the body at least ("1,"): one allocation,
  // bounded by the body whatever shape the model declares.
  out.data.reserve((body.size() / 2 + 1) * sizeof(T));
  do {
    if (!ReadInstance<T>(in, instance, 0, out.data)) return std::nullopt;
    ++out.shape[0];
  } while (in.Eat(','));
  if (!in.Eat(']') || !in.Eat('}') || !in.AtEnd()) return std::nullopt;
  out.shape.insert(out.shape.end(), instance.begin(), instance.end());
  return out;
}

}  // namespace

std::optional<tensor::Tensor> DecodeV1Dense(std::string_view body,
                                            const tensor::TensorInfo& input) {
  if (!input.shape_known || input.shape.empty() ||
      input.shape.size() > 16) {  // far from kMaxV1Depth: deeper ones go the general way
    return std::nullopt;
  }
  const tensor::Shape instance(input.shape.begin() + 1, input.shape.end());
  for (const int64_t d : instance) {
    if (d <= 0) return std::nullopt;  // unknown sizes (and empty ones) take the general path
  }
  switch (input.dtype) {
    case tensor::DType::kFloat32:
      return Decode<float>(body, input, instance);
    case tensor::DType::kFloat64:
      return Decode<double>(body, input, instance);
    default:
      return std::nullopt;
  }
}

}  // namespace axon::protocol
