// FakeApiServer: a scripted stand-in for kube-apiserver, for tests of the Kubernetes client.
// It listens on 127.0.0.1 (port 0), plain HTTP or TLS (optionally requiring a client
// certificate signed by a given CA), parses each request and hands it to the test's script,
// which answers the way a real API server does on that path: a JSON object, a Status object
// with an error code, a chunked watch stream of JSON lines (cut anywhere the script likes),
// or a dropped connection. Every request is recorded.
//
// Threading: one thread accepts; each connection gets a thread of its own that reads its
// requests and runs the script for each, so scripts may block (to hold a call in flight)
// without holding up other connections. requests() may be called from any thread. Stop()
// (or the destructor) closes the listener and every connection and joins all threads;
// scripts blocked on the test's own conditions must be released first.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <boost/asio/ssl.hpp>
#include "common/status.h"

#include "http/beast.h"

namespace axon::kube::testing {

struct RecordedRequest {
  std::string method;
  std::string target;  // path and query
  std::string authorization;
  std::string content_type;
  std::string body;
  std::string client_subject;  // the TLS client certificate's subject, "" if none
};

// The answer to one request, written by the script as it goes.
class Exchange {
 public:
  const RecordedRequest& request() const { return request_; }
  // A complete answer with Content-Length.
  void Reply(unsigned status, const nlohmann::json& body);
  // A Status object ("kind": "Status") with this code, reason and message.
  void ReplyStatus(unsigned status, const std::string& reason, const std::string& message);
  // A chunked answer (a watch): the header now, then any number of Chunk()s, then End().
  void StartChunked(unsigned status = 200);
  void Chunk(const std::string& data);
  // A watch event as one line: {"type": type, "object": object}\n.
  void Event(const std::string& type, const nlohmann::json& object);
  void End();
  // Closes the connection now, whatever has been written.
  void Drop();

 private:
  friend class FakeApiServer;
  explicit Exchange(std::function<bool(const std::string&)> write) : write_(std::move(write)) {}
  void Write(const std::string& bytes);
  std::function<bool(const std::string&)> write_;
  RecordedRequest request_;
  bool dropped_ = false;
  bool answered_ = false;
};

using Script = std::function<void(Exchange&)>;

struct FakeApiServerOptions {
  bool tls = false;
  std::string cert_pem;  // the server's certificate and key (tls)
  std::string key_pem;
  std::string client_ca_pem;  // when set, a client certificate signed by it is required
};

class FakeApiServer {
 public:
  static StatusOr<std::unique_ptr<FakeApiServer>> Start(FakeApiServerOptions options,
                                                        Script script);
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const;  // https://127.0.0.1:PORT or http://...
  std::vector<RecordedRequest> requests() const;
  int connections() const { return connections_.load(); }
  void Stop();

 private:
  FakeApiServer(FakeApiServerOptions options, Script script);
  void AcceptLoop();
  template <typename Stream>
  void Serve(Stream& stream, const std::string& subject);
  void ServeSocket(http::tcp::socket& socket);

  const FakeApiServerOptions options_;
  const Script script_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  http::asio::io_context io_;
  http::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};

  mutable std::mutex mu_;
  std::vector<RecordedRequest> requests_;  // guarded by mu_
  std::vector<int> open_fds_;              // guarded by mu_
  std::vector<std::thread> threads_;       // guarded by mu_
};

// Certificates made with `openssl` for a test: a CA, a server certificate for 127.0.0.1 signed
// by it, a client certificate (CN=axon-tester, O=system:masters) signed by it, and a second,
// untrusted CA with a server certificate of its own.
struct TestPki {
  std::string ca_pem;
  std::string server_cert_pem, server_key_pem;
  std::string client_cert_pem, client_key_pem;
  std::string other_ca_pem;
  std::string other_server_cert_pem, other_server_key_pem;
};
StatusOr<TestPki> MakeTestPki(const std::string& dir);

}  // namespace axon::kube::testing
