// ParseQueue (declared in api_parser.h): the `queue` section of an AsyncAPI.
#include "spec/api_parser.h"
#include "spec/quantity.h"

namespace axon::spec {

void ParseQueue(const Field* section, const std::string& kind, ErrorList& errors, QueueSpec* out) {
  if (section == nullptr) return;
  if (kind != kAsyncKind && kind != kBatchKind && kind != kTaskKind) {
    errors.Add(section->line, section->path,
               "is a field of an AsyncAPI, BatchAPI or TaskAPI only: a " + kind +
                   " answers each request as it comes; use `kind: AsyncAPI` to queue requests "
                   "and answer them later");
    return;
  }
  FieldMap fields(section->value, section->path, section->line, SchemaFor("queue"), errors);
  if (!fields.ok()) return;
  if (const Field* attempts = fields.Get("max_attempts")) {
    if (auto v = ReadInt(*attempts, 1, 100, errors)) out->max_attempts = *v;
  }
  if (const Field* retention = fields.Get("result_retention")) {
    if (auto d = ReadParsed(*retention, "a duration like \"168h\" (7 days)", &ParsePositiveDuration,
                            errors)) {
      out->result_retention = *d;
    }
  }
}

}  // namespace axon::spec
