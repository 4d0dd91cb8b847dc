#include "http/tls.h"

#include <filesystem>

namespace axon::http {

StatusOr<std::shared_ptr<TlsContext>> TlsContext::ForServer(const std::string& cert_file,
                                                            const std::string& key_file) {
  for (const auto& file : {cert_file, key_file}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
      return InvalidArgument("TLS file " + file + " does not exist or is not a file");
    }
  }
  std::shared_ptr<TlsContext> tls(new TlsContext(asio::ssl::context::tls_server));
  auto& ctx = tls->context_;
  beast::error_code ec;
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1,
                  ec);
  ctx.use_certificate_chain_file(cert_file, ec);
  if (ec) return InvalidArgument("cannot use TLS certificate " + cert_file + ": " + ec.message());
  ctx.use_private_key_file(key_file, asio::ssl::context::pem, ec);
  if (ec) return InvalidArgument("cannot use TLS key " + key_file + ": " + ec.message());
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return InvalidArgument("TLS key " + key_file + " does not match certificate " + cert_file);
  }
  return tls;
}

StatusOr<std::shared_ptr<TlsContext>> TlsContext::ForClient(const std::string& ca_file) {
  std::shared_ptr<TlsContext> tls(new TlsContext(asio::ssl::context::tls_client));
  auto& ctx = tls->context_;
  beast::error_code ec;
  ctx.set_verify_mode(asio::ssl::verify_peer, ec);
  if (ca_file.empty()) {
    ctx.set_default_verify_paths(ec);
  } else {
    ctx.load_verify_file(ca_file, ec);
  }
  if (ec) {
    return InvalidArgument("cannot load TLS CA " + (ca_file.empty() ? "(system)" : ca_file) + ": " +
                           ec.message());
  }
  return tls;
}

}  // namespace axon::http
