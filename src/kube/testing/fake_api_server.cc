#include "kube/testing/fake_api_server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <boost/beast/ssl.hpp>

namespace axon::kube::testing {
namespace {

namespace asio = http::asio;
namespace bhttp = http::bhttp;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;

const char* Reason(unsigned status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 422:
      return "Unprocessable Entity";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

// --- Exchange ---

void Exchange::Write(const std::string& bytes) {
  if (dropped_) return;
  if (!write_(bytes)) dropped_ = true;
}

void Exchange::Reply(unsigned status, const nlohmann::json& body) {
  const std::string text = body.dump();
  Write("HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(text.size()) +
        "\r\n\r\n" + text);
  answered_ = true;
}

void Exchange::ReplyStatus(unsigned status, const std::string& reason, const std::string& message) {
  Reply(status, {{"kind", "Status"},
                 {"apiVersion", "v1"},
                 {"metadata", nlohmann::json::object()},
                 {"status", "Failure"},
                 {"message", message},
                 {"reason", reason},
                 {"code", status}});
}

void Exchange::StartChunked(unsigned status) {
  Write("HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
        "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
  answered_ = true;
}

void Exchange::Chunk(const std::string& data) {
  if (data.empty()) return;  // an empty chunk would end the body
  char size[20];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  Write(size + data + "\r\n");
}

void Exchange::Event(const std::string& type, const nlohmann::json& object) {
  Chunk(nlohmann::json{{"type", type}, {"object", object}}.dump() + "\n");
}

void Exchange::End() { Write("0\r\n\r\n"); }

void Exchange::Drop() { dropped_ = true; }

// --- FakeApiServer ---

FakeApiServer::FakeApiServer(FakeApiServerOptions options, Script script)
    : options_(std::move(options)), script_(std::move(script)), acceptor_(io_) {}

StatusOr<std::unique_ptr<FakeApiServer>> FakeApiServer::Start(FakeApiServerOptions options,
                                                              Script script) {
  std::unique_ptr<FakeApiServer> s(new FakeApiServer(std::move(options), std::move(script)));
  error_code ec;
  if (s->options_.tls) {
    s->tls_ = std::make_unique<ssl::context>(ssl::context::tls_server);
    (void)s->tls_->use_certificate_chain(asio::buffer(s->options_.cert_pem), ec);
    if (!ec)
      (void)s->tls_->use_private_key(asio::buffer(s->options_.key_pem), ssl::context::pem, ec);
    if (!ec && !s->options_.client_ca_pem.empty()) {
      (void)s->tls_->add_certificate_authority(asio::buffer(s->options_.client_ca_pem), ec);
      s->tls_->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
    if (ec) return Internal("fake API server TLS set-up: " + ec.message());
  }
  const http::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  (void)s->acceptor_.open(endpoint.protocol(), ec);
  if (!ec) (void)s->acceptor_.bind(endpoint, ec);
  if (!ec) (void)s->acceptor_.listen(64, ec);
  if (ec) return Internal("fake API server listen: " + ec.message());
  s->port_ = s->acceptor_.local_endpoint().port();
  s->accept_thread_ = std::thread([raw = s.get()] { raw->AcceptLoop(); });
  return s;
}

FakeApiServer::~FakeApiServer() { Stop(); }

std::string FakeApiServer::url() const {
  return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::vector<RecordedRequest> FakeApiServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void FakeApiServer::AcceptLoop() {
  while (!stopping_.load()) {
    http::tcp::socket socket(io_);
    error_code ec;
    (void)acceptor_.accept(socket, ec);
    if (ec || stopping_.load()) return;
    ++connections_;
    std::lock_guard<std::mutex> lock(mu_);
    const int fd = socket.native_handle();
    open_fds_.push_back(fd);
    threads_.emplace_back([this, fd, s = std::move(socket)]() mutable {
      ServeSocket(s);  // `s` closes after its descriptor is forgotten
      std::lock_guard<std::mutex> lock(mu_);
      std::erase(open_fds_, fd);
    });
  }
}

void FakeApiServer::ServeSocket(http::tcp::socket& socket) {
  error_code ignored;
  (void)socket.set_option(http::tcp::no_delay(true), ignored);
  if (!tls_) {
    Serve(socket, "");
    return;
  }
  ssl::stream<http::tcp::socket&> stream(socket, *tls_);
  error_code ec;
  (void)stream.handshake(ssl::stream_base::server, ec);
  if (ec) return;
  std::string subject;
  if (X509* cert = SSL_get1_peer_certificate(stream.native_handle())) {
    char buf[256];
    X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf));
    subject = buf;
    X509_free(cert);
  }
  Serve(stream, subject);
}

template <typename Stream>
void FakeApiServer::Serve(Stream& stream, const std::string& subject) {
  boost::beast::flat_buffer buffer;
  while (!stopping_.load()) {
    http::Request req;
    error_code ec;
    bhttp::read(stream, buffer, req, ec);
    if (ec) return;
    Exchange exchange([&stream](const std::string& bytes) {
      error_code wec;
      asio::write(stream, asio::buffer(bytes), wec);
      return !wec;
    });
    RecordedRequest& r = exchange.request_;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.authorization = std::string(req[bhttp::field::authorization]);
    r.content_type = std::string(req[bhttp::field::content_type]);
    r.body = req.body();
    r.client_subject = subject;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(r);
    }
    script_(exchange);
    if (exchange.dropped_ || !exchange.answered_) return;
  }
}

void FakeApiServer::Stop() {
  if (stopping_.exchange(true)) return;
  // Wake the accept() with a connection of our own, then close every socket still open.
  {
    error_code ec;
    http::tcp::socket poke(io_);
    (void)poke.connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  error_code ec;
  (void)acceptor_.close(ec);
}

// --- TestPki ---

StatusOr<TestPki> MakeTestPki(const std::string& dir) {
  const std::string script =
      "set -e; cd '" + dir +
      "'"
      "; ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'"
      "; printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.cnf"
      "; for ca in ca other-ca; do"
      "   openssl req -x509 $ec -days 2 -subj /CN=$ca -keyout $ca.key -out $ca.crt; done"
      "; openssl req $ec -subj /CN=kube-apiserver -keyout server.key -out server.csr"
      "; openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2"
      "   -extfile san.cnf -out server.crt"
      "; openssl req $ec -subj /CN=kube-apiserver -keyout other-server.key -out other-server.csr"
      "; openssl x509 -req -in other-server.csr -CA other-ca.crt -CAkey other-ca.key"
      "   -CAcreateserial -days 2 -extfile san.cnf -out other-server.crt"
      "; openssl req $ec -subj '/O=system:masters/CN=axon-tester' -keyout client.key -out "
      "client.csr"
      "; openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2"
      "   -out client.crt";
  {
    std::ofstream out(dir + "/pki.sh");
    out << script << "\n";
  }
  const std::string command = "sh '" + dir + "/pki.sh' > '" + dir + "/openssl.log' 2>&1";
  if (std::system(command.c_str()) != 0) {
    return Internal("openssl failed; see " + dir + "/openssl.log");
  }
  TestPki pki;
  pki.ca_pem = ReadText(dir + "/ca.crt");
  pki.server_cert_pem = ReadText(dir + "/server.crt");
  pki.server_key_pem = ReadText(dir + "/server.key");
  pki.client_cert_pem = ReadText(dir + "/client.crt");
  pki.client_key_pem = ReadText(dir + "/client.key");
  pki.other_ca_pem = ReadText(dir + "/other-ca.crt");
  pki.other_server_cert_pem = ReadText(dir + "/other-server.crt");
  pki.other_server_key_pem = ReadText(dir + "/other-server.key");
  return pki;
}

}  // namespace axon::kube::testing
