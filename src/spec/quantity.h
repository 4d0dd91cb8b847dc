// Parsers for the scalar formats of API specs: Go-style durations ("1m30s"), Kubernetes CPU and
// memory quantities ("200m", "512Mi"), counts or percentages ("25%") and plain YAML numbers.
// Pure functions; thread-safe.
//
// Each parser takes the scalar's text and returns the value, or an InvalidArgument status whose
// message says what is allowed (without the "got ..." part, which the caller adds).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "spec/api_spec.h"

namespace axon::spec {

// "300ms", "10s", "5m", "1h", "1m30s", "1.5h". Units: ms, s, m, h. Negative values, bare numbers
// and fractions of a millisecond are errors.
StatusOr<Millis> ParseDuration(std::string_view text);
// A duration > 0.
StatusOr<Millis> ParsePositiveDuration(std::string_view text);

// Kubernetes CPU quantity in millicores: "200m" -> 200, "1" -> 1000, "0.5" -> 500. Must be > 0 and
// a whole number of millicores.
StatusOr<int64_t> ParseCpuMillis(std::string_view text);

// Kubernetes memory quantity in bytes: "512Mi", "1Gi", "500M", "1G", "100k", "1048576". Binary
// suffixes Ki Mi Gi Ti Pi Ei, decimal suffixes k M G T P E. Must be > 0 and whole bytes.
StatusOr<int64_t> ParseMemoryBytes(std::string_view text);

// An integer >= 0 ("2") or a whole percentage from 0% to 100% ("25%").
StatusOr<CountOrPercent> ParseCountOrPercent(std::string_view text);

// A decimal integer with an optional sign ("42", "-3"); nullopt if the text is anything else or
// does not fit in int64_t.
std::optional<int64_t> ParseInteger(std::string_view text);

// A finite decimal number ("1", "-0.5", "1e3", ".5"); nullopt otherwise (including inf and nan).
std::optional<double> ParseNumber(std::string_view text);

}  // namespace axon::spec
