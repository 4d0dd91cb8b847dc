#include "common/exposition.h"

#include <cmath>
#include <iterator>
#include <map>

#include <fmt/format.h>

namespace axon {
namespace {

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Exposition::Family(std::string_view name, std::string_view type, std::string_view help) {
  std::string escaped_help;
  for (char c : help) {  // HELP text escapes backslash and newline only
    if (c == '\\') {
      escaped_help += "\\\\";
    } else if (c == '\n') {
      escaped_help += "\\n";
    } else {
      escaped_help += c;
    }
  }
  fmt::format_to(std::back_inserter(text_), "# HELP {} {}\n# TYPE {} {}\n", name, escaped_help,
                 name, type);
}

void Exposition::Line(std::string_view name, std::string_view suffix, const MetricLabels& labels,
                      std::string_view extra_label, std::string_view extra_value, double value) {
  text_ += name;
  text_ += suffix;
  if (!labels.empty() || !extra_label.empty()) {
    text_ += '{';
    bool first = true;
    auto add = [&](std::string_view key, std::string_view v) {
      if (!first) text_ += ',';
      first = false;
      text_ += key;
      text_ += "=\"";
      text_ += EscapeLabelValue(v);
      text_ += '"';
    };
    for (const auto& [key, v] : labels) add(key, v);
    if (!extra_label.empty()) add(extra_label, extra_value);
    text_ += '}';
  }
  text_ += ' ';
  text_ += FormatValue(value);
  text_ += '\n';
}

void Exposition::Sample(std::string_view name, const MetricLabels& labels, double value) {
  Line(name, "", labels, "", "", value);
}

void Exposition::Histogram(std::string_view name, const MetricLabels& labels,
                           const HistogramSnapshot& h, double scale) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    cumulative += h.counts[i];
    const std::string le =
        i < h.bounds.size() ? FormatValue(static_cast<double>(h.bounds[i]) / scale) : "+Inf";
    Line(name, "_bucket", labels, "le", le, static_cast<double>(cumulative));
  }
  Line(name, "_sum", labels, "", "", static_cast<double>(h.sum) / scale);
  Line(name, "_count", labels, "", "", static_cast<double>(cumulative));
}

std::string WithLabel(std::string_view text, std::string_view name, std::string_view value) {
  const std::string label = std::string(name) + "=\"" + EscapeLabelValue(value) + "\"";
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    const size_t split = line.find_first_of("{ ");
    if (line.empty() || line.starts_with('#') || split == std::string_view::npos) {
      out += line;
    } else if (line[split] == '{') {
      out.append(line.substr(0, split + 1)).append(label);
      if (split + 1 < line.size() && line[split + 1] != '}') out += ',';
      out += line.substr(split + 1);
    } else {
      out.append(line.substr(0, split)).append("{").append(label).append("}");
      out += line.substr(split);
    }
    out += '\n';
  }
  return out;
}

std::string MergeExpositions(const std::vector<std::string>& texts) {
  struct Family {
    std::string help;  // the whole "# HELP" line
    std::string type;  // the whole "# TYPE" line
    std::string samples;
  };
  std::vector<std::string> order;
  std::map<std::string, Family, std::less<>> families;
  for (const std::string& text : texts) {
    std::string pending_help;  // a HELP line comes before its TYPE line
    Family* current = nullptr;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      const std::string_view line(text.data() + pos, end - pos);
      pos = end + 1;
      if (line.empty()) continue;
      if (line.starts_with("# HELP ")) {
        pending_help = line;
        continue;
      }
      if (line.starts_with("# TYPE ")) {
        const std::string_view rest = line.substr(7);
        const std::string name(rest.substr(0, rest.find(' ')));
        auto [it, inserted] = families.try_emplace(name);
        if (inserted) {
          order.push_back(name);
          it->second.help = pending_help;
          it->second.type = line;
        }
        pending_help.clear();
        current = &it->second;
        continue;
      }
      if (line.starts_with('#') || current == nullptr) continue;
      current->samples += line;
      current->samples += '\n';
    }
  }
  std::string out;
  for (const auto& name : order) {
    const Family& f = families.at(name);
    if (!f.help.empty()) (out += f.help) += '\n';
    (out += f.type) += '\n';
    out += f.samples;
  }
  return out;
}

}  // namespace axon
