#include "replica/v2_infer.h"

#include <strings.h>

#include "protocol/v2_response.h"
#include "protocol/v2_types.h"

namespace axon::replica {

StatusOr<protocol::v2::InferRequest> DecodeV2Request(const PredictRequest& request) {
  std::optional<uint64_t> header_length;
  const std::string_view wanted = protocol::v2::kHeaderLengthHeader;
  for (const auto& [name, value] : request.headers) {
    if (name.size() == wanted.size() &&
        ::strncasecmp(name.data(), wanted.data(), wanted.size()) == 0) {
      auto parsed = protocol::v2::ParseHeaderLength(value);
      if (!parsed.ok()) return parsed.status();
      header_length = *parsed;
    }
  }
  return protocol::v2::DecodeInferRequest(request.body, header_length);
}

PredictResponse V2Answer(const PredictRequest& request, const protocol::v2::InferRequest& decoded,
                         std::span<const tensor::Tensor> outputs) {
  auto encoded = protocol::v2::EncodeInferResponse(
      {.model_name = request.model_name, .model_version = request.model_version}, decoded, outputs);
  if (!encoded.ok()) return ErrorAnswer(encoded.status());
  PredictResponse response{200, std::move(encoded->body), std::string(encoded->content_type())};
  if (encoded->header_length > 0) {
    response.headers.emplace_back(protocol::v2::kHeaderLengthHeader,
                                  std::to_string(encoded->header_length));
  }
  return response;
}

PredictResponse ErrorAnswer(const Status& status) {
  const int code = HttpStatusFor(status.code());
  return code < 500 ? PredictResponse::Error(code, status.message())
                    : PredictResponse::Failure(code, status.message());
}

}  // namespace axon::replica
