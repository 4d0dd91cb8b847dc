// The Prometheus text exposition format (version 0.0.4): a writer for the platform's metrics,
// and Merge() for the operator, which serves the gateway's, the replicas' and its own metrics
// as one scrape.
//
// Writer: declare a family with Family() (its `# HELP` and `# TYPE` lines), then write its
// samples; label values are escaped (backslash, double quote, newline). Not thread-safe; one
// writer per answer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/histogram.h"

namespace axon {

// The Content-Type of an answer in this format.
inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

using MetricLabels = std::vector<std::pair<std::string_view, std::string_view>>;

class Exposition {
 public:
  // `type`: "counter", "gauge" or "histogram". Call once per family per answer, before its
  // samples.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, const MetricLabels& labels, double value);
  // `name`_bucket{le=...} (cumulative, ending with +Inf), `name`_sum and `name`_count; bounds
  // and sum are divided by `scale` (1e6 turns microseconds into seconds).
  void Histogram(std::string_view name, const MetricLabels& labels, const HistogramSnapshot& h,
                 double scale = 1);

  const std::string& text() const { return text_; }
  std::string Take() { return std::move(text_); }

 private:
  void Line(std::string_view name, std::string_view suffix, const MetricLabels& labels,
            std::string_view extra_label, std::string_view extra_value, double value);
  std::string text_;
};

// `value` with backslash, double quote and newline escaped, as label values need.
std::string EscapeLabelValue(std::string_view value);

// `text` (an exposition, as Exposition writes it) with the label `name`="`value`" added to
// every sample, first among its labels: how several processes that write the same series (the
// gateway pods) stay apart in one scrape. Comment lines are kept as they are.
std::string WithLabel(std::string_view text, std::string_view name, std::string_view value);

// One exposition made of several, each family once: its HELP and TYPE from the first text
// that has it, its samples from every text in order. Texts must be well formed (as Exposition
// writes them); lines before any `# TYPE` line are dropped.
std::string MergeExpositions(const std::vector<std::string>& texts);

}  // namespace axon
