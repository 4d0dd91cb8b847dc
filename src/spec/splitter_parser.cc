// ParseSplitTargets, CheckSplitterFields and CheckSplitTargetsInFile (declared in
// api_parser.h): the fields of a TrafficSplitter.
#include <map>

#include "spec/api_parser.h"
#include "spec/nearest_name.h"

namespace axon::spec {
namespace {

constexpr char kApisExample[] =
    "a list of {name, weight} whose weights sum to 100, e.g. [{name: iris-a, weight: 90}, "
    "{name: iris-b, weight: 10}]";

// One entry of `apis`; false after an error in it.
bool ParseTarget(const Field& entry, ErrorList& errors, SplitTarget* out) {
  FieldMap fields(entry.value, entry.path, entry.line, SchemaFor("TrafficSplitter.apis"), errors);
  if (!fields.ok()) return false;
  if (!entry.value.IsMap()) {
    errors.Add(entry.line, entry.path, "must be a mapping {name, weight, shadow}, got nothing");
    return false;
  }
  bool ok = true;
  out->source_line = entry.line;
  if (const Field* name = fields.Get("name")) {
    std::optional<std::string> text = ReadScalar(*name, "the name of a RealtimeAPI", errors);
    if (text && !IsValidApiName(*text)) {
      errors.Add(name->line, name->path,
                 "must be the name of a RealtimeAPI (a lowercase name of letters, digits and "
                 "\"-\"), got " +
                     Describe(name->value));
      text.reset();
    }
    if (text) out->name = *text;
    ok = ok && text.has_value();
  } else {
    errors.Add(entry.line, entry.path + ".name", "is required: the name of a RealtimeAPI");
    ok = false;
  }
  if (const Field* shadow = fields.Get("shadow")) {
    std::optional<bool> value = ReadBool(*shadow, errors);
    out->shadow = value.value_or(false);
    ok = ok && value.has_value();
  }
  if (const Field* weight = fields.Get("weight")) {
    std::optional<int64_t> value = ReadInt(*weight, out->shadow ? 1 : 0, 100, errors);
    out->weight = value.value_or(0);
    ok = ok && value.has_value();
  } else if (out->shadow) {
    out->weight = 100;  // a copy of every request
  } else {
    errors.Add(entry.line, entry.path + ".weight",
               "is required: the percentage of requests this API receives (0 to 100; the "
               "weights of the APIs that are not the shadow sum to 100)");
    ok = false;
  }
  return ok;
}

// "a: 50, b: 40"
std::string WeightList(const std::vector<SplitTarget>& targets) {
  std::string out;
  for (const auto& t : targets) {
    if (t.shadow) continue;
    if (!out.empty()) out += ", ";
    out += t.name + ": " + std::to_string(t.weight);
  }
  return out;
}

}  // namespace

void ParseSplitTargets(const Field* field, int api_line, ErrorList& errors,
                       std::vector<SplitTarget>* out) {
  if (field == nullptr) {
    errors.Add(api_line, "apis", "is required: " + std::string(kApisExample));
    return;
  }
  if (!field->value.IsSequence() || field->value.size() == 0) {
    errors.Add(field->line, field->path,
               "must be " + std::string(kApisExample) + ", got " + Describe(field->value));
    return;
  }
  bool all_ok = true;
  std::map<std::string, int> lines;  // name -> line of its first entry
  const SplitTarget* shadow = nullptr;
  for (size_t i = 0; i < field->value.size(); ++i) {
    const Field entry{field->path + "[" + std::to_string(i) + "]", LineOf(field->value[i]),
                      field->value[i]};
    SplitTarget target;
    if (!ParseTarget(entry, errors, &target)) {
      all_ok = false;
      continue;
    }
    if (auto [it, added] = lines.emplace(target.name, entry.line); !added) {
      errors.Add(entry.line, entry.path + ".name",
                 "api \"" + target.name + "\" is listed twice (first on line " +
                     std::to_string(it->second) + "); list each API once");
      all_ok = false;
      continue;
    }
    if (target.shadow && shadow != nullptr) {
      errors.Add(entry.line, entry.path + ".shadow",
                 "only one API may be the shadow; \"" + shadow->name + "\" (line " +
                     std::to_string(shadow->source_line) + ") already is");
      all_ok = false;
      continue;
    }
    out->push_back(std::move(target));
    if (out->back().shadow) shadow = &out->back();
  }
  if (!all_ok) return;
  int64_t sum = 0;
  size_t primaries = 0;
  for (const auto& t : *out) {
    if (t.shadow) continue;
    sum += t.weight;
    ++primaries;
  }
  if (primaries == 0) {
    errors.Add(field->line, field->path,
               "needs at least one API that is not the shadow: the shadow only receives copies "
               "of requests that another API answers");
  } else if (sum != 100) {
    errors.Add(field->line, field->path,
               "the weights of the APIs that are not the shadow must sum to 100, got " +
                   std::to_string(sum) + " (" + WeightList(*out) + ")");
  }
}

void CheckSplitterFields(const FieldMap& top, const FieldMap& networking, ErrorList& errors) {
  for (const char* key :
       {"predictor", "compute", "autoscaling", "update_strategy", "logging", "node_groups"}) {
    if (const Field* f = top.Get(key)) {
      errors.Add(f->line, f->path,
                 "is not a field of a TrafficSplitter, which runs no predictor: it sends each "
                 "request to one of its apis, whose own " +
                     std::string(key) + " applies");
    }
  }
  for (const char* key : {"timeout", "api_keys"}) {
    if (const Field* f = networking.Get(key)) {
      errors.Add(f->line, f->path,
                 "is not a field of a TrafficSplitter: each request gets the networking." +
                     std::string(key) + " of the API it is sent to");
    }
  }
}

void CheckSplitTargetsInFile(const std::vector<ParsedApi>& apis, ErrorList& errors) {
  std::map<std::string, const ParsedApi*> by_name;
  for (const ParsedApi& api : apis) {
    if (api.name_ok) by_name.emplace(api.spec.name, &api);
  }
  for (const ParsedApi& api : apis) {
    if (!api.name_ok || api.spec.kind != kSplitterKind) continue;
    errors.SetApi(api.spec.name);
    for (size_t i = 0; i < api.spec.apis.size(); ++i) {
      const SplitTarget& target = api.spec.apis[i];
      const std::string field = "apis[" + std::to_string(i) + "].name";
      if (target.name == api.spec.name) {
        errors.Add(target.source_line, field,
                   "a TrafficSplitter cannot send requests to itself; name a RealtimeAPI");
        continue;
      }
      const auto it = by_name.find(target.name);
      if (it != by_name.end() && it->second->spec.kind != kRealtimeKind) {
        errors.Add(target.source_line, field,
                   "api \"" + target.name + "\" (line " + std::to_string(it->second->name_line) +
                       ") is a " + it->second->spec.kind +
                       "; a TrafficSplitter sends requests to RealtimeAPIs only");
      }
    }
  }
}

}  // namespace axon::spec
