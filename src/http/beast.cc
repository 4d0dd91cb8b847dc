#include "http/beast.h"

namespace axon::http {

local_stream::endpoint LocalEndpoint(std::string_view name) {
  if (!name.empty() && name.front() == '@') {
    return local_stream::endpoint(std::string(1, '\0') + std::string(name.substr(1)));
  }
  return local_stream::endpoint(std::string(name));
}

}  // namespace axon::http
