// TLS for the HTTP server and the control-plane client (Beast's ssl_stream over OpenSSL). Kept
// apart so that only the files that speak TLS include OpenSSL's headers.
//
// A TlsContext is immutable once made and may be shared by every thread.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include "common/status.h"
#include "http/beast.h"

namespace axon::http {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

class TlsContext {
 public:
  // A server context from PEM files; errors name the file and OpenSSL's reason.
  static StatusOr<std::shared_ptr<TlsContext>> ForServer(const std::string& cert_file,
                                                         const std::string& key_file);
  // A client context that verifies the server's certificate against `ca_file` (PEM), or the
  // system's CAs when `ca_file` is empty.
  static StatusOr<std::shared_ptr<TlsContext>> ForClient(const std::string& ca_file);

  asio::ssl::context& native() { return context_; }

 private:
  explicit TlsContext(asio::ssl::context::method method) : context_(method) {}
  asio::ssl::context context_;
};

}  // namespace axon::http
