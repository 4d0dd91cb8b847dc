#include "kube/client.h"

#include <system_error>

#include "common/files.h"
#include "kube/resource.h"

namespace axon::kube {
namespace {

namespace bhttp = http::bhttp;
using bhttp::verb;

std::string VerbName(verb method) { return std::string(bhttp::to_string(method)); }

// An error for a call that did not get an answer: the connection's message with the call.
Status CallFailed(verb method, const std::string& target, const Status& status) {
  return Status(status.code(), VerbName(method) + " " + target + ": " + status.message());
}

std::string PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kJsonPatch:
      return "application/json-patch+json";
  }
  return "application/merge-patch+json";
}

std::string PropagationName(Propagation p) {
  switch (p) {
    case Propagation::kForeground:
      return "Foreground";
    case Propagation::kOrphan:
      return "Orphan";
    case Propagation::kBackground:
      break;
  }
  return "Background";
}

StatusOr<Json> ParseBody(verb method, const std::string& target, const ApiResponse& response) {
  if (response.body.empty()) return Json::object();
  Json j = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Internal(VerbName(method) + " " + target + ": the API server answered with " +
                    "something that is not JSON");
  }
  return j;
}

StatusOr<WatchEventType> EventType(const std::string& name) {
  if (name == "ADDED") return WatchEventType::kAdded;
  if (name == "MODIFIED") return WatchEventType::kModified;
  if (name == "DELETED") return WatchEventType::kDeleted;
  if (name == "BOOKMARK") return WatchEventType::kBookmark;
  if (name == "ERROR") return WatchEventType::kError;
  return Internal("unknown watch event type \"" + name + "\"");
}

}  // namespace

ApiStatus ParseApiStatus(unsigned http_code, const std::string& body) {
  ApiStatus out;
  out.code = http_code;
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.value("kind", "") == "Status") {
    out.reason = j.value("reason", "");
    out.message = j.value("message", "");
    if (j.contains("code") && j["code"].is_number_integer() && j["code"].get<int64_t>() > 0) {
      out.code = j["code"].get<unsigned>();
    }
  } else {
    out.message = body.substr(0, 500);
  }
  if (out.message.empty()) out.message = "HTTP " + std::to_string(out.code);
  return out;
}

Status ToStatus(const std::string& what, const ApiStatus& s) {
  StatusCode code = StatusCode::kInternal;
  if (s.code == 400 || s.code == 422) {
    code = StatusCode::kInvalidArgument;
  } else if (s.code == 401 || s.code == 403) {
    code = StatusCode::kUnauthenticated;
  } else if (s.code == 404) {
    code = StatusCode::kNotFound;
  } else if (s.code == 409) {
    code = StatusCode::kAlreadyExists;
  } else if (s.code == 410 || s.code == 429 || s.code >= 500) {
    code = StatusCode::kUnavailable;
  }
  std::string detail = s.reason.empty() ? "HTTP " + std::to_string(s.code)
                                        : s.reason + ", HTTP " + std::to_string(s.code);
  return Status(code, what + ": " + s.message + " (" + detail + ")");
}

// --- WatchStream ---

StatusOr<std::optional<WatchEvent>> WatchStream::Next(Millis idle_timeout) {
  for (;;) {
    const size_t newline = pending_.find('\n');
    if (newline == std::string::npos && ended_) {
      if (pending_.find_first_not_of(" \r\n") == std::string::npos) {
        return std::optional<WatchEvent>();
      }
      pending_ += '\n';  // a last event without its newline
      continue;
    }
    if (newline == std::string::npos) {
      auto more = connection_->ReadBody(&pending_, idle_timeout);
      if (!more.ok()) return Status(more.status().code(), what_ + ": " + more.status().message());
      ended_ = !*more;
      continue;
    }
    std::string line = pending_.substr(0, newline);
    pending_.erase(0, newline + 1);
    if (line.find_first_not_of(" \r") == std::string::npos) continue;
    Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string() || !j.contains("object")) {
      return Internal(what_ + ": a watch event that is not {\"type\", \"object\"}");
    }
    auto type = EventType(j["type"].get<std::string>());
    if (!type.ok()) return Status(type.status().code(), what_ + ": " + type.status().message());
    return std::optional<WatchEvent>(WatchEvent{*type, std::move(j["object"])});
  }
}

// --- Client ---

Client::Client(Credentials credentials, ClientOptions options)
    : credentials_(std::move(credentials)), options_(std::move(options)) {}
Client::~Client() = default;

StatusOr<std::unique_ptr<Client>> Client::New(Credentials credentials, ClientOptions options) {
  std::unique_ptr<Client> client(new Client(std::move(credentials), std::move(options)));
  Status init = client->Init();
  if (!init.ok()) return init;
  return client;
}

Status Client::Init() {
  const std::string& where = credentials_.description;
  if (!credentials_.server.tls) return OkStatus();
  tls_ = std::make_unique<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  if (!credentials_.ca_pem.empty()) {
    (void)tls_->add_certificate_authority(http::asio::buffer(credentials_.ca_pem), ec);
    if (ec) return InvalidArgument(where + ": bad certificate-authority: " + ec.message());
  } else {
    (void)tls_->set_default_verify_paths(ec);
  }
  tls_->set_verify_mode(credentials_.insecure_skip_verify ? ssl::verify_none : ssl::verify_peer);
  if (!credentials_.client_cert_pem.empty()) {
    (void)tls_->use_certificate_chain(http::asio::buffer(credentials_.client_cert_pem), ec);
    if (ec) return InvalidArgument(where + ": bad client-certificate: " + ec.message());
    (void)tls_->use_private_key(http::asio::buffer(credentials_.client_key_pem), ssl::context::pem,
                                ec);
    if (ec) return InvalidArgument(where + ": bad client-key: " + ec.message());
  }
  return OkStatus();
}

std::string Client::BearerToken() {
  if (credentials_.token_file.empty()) return credentials_.token;
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(credentials_.token_file, ec);
  if (!ec && (token_.empty() || mtime != token_mtime_)) {
    auto text = ReadFile(credentials_.token_file);
    if (text.ok()) {
      token_ = std::move(text).value();
      while (!token_.empty() && (token_.back() == '\n' || token_.back() == ' ')) token_.pop_back();
      token_mtime_ = mtime;
    }
  }
  return token_;
}

http::Request Client::MakeRequest(verb method, const std::string& target, const std::string& body,
                                  const std::string& content_type) {
  http::Request req{method, credentials_.server.path_prefix + target, 11};
  req.set(bhttp::field::host, credentials_.server.host);
  req.set(bhttp::field::user_agent, options_.user_agent);
  req.set(bhttp::field::accept, "application/json");
  const std::string token = BearerToken();
  if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
  if (!body.empty() || method == verb::post || method == verb::put || method == verb::patch) {
    req.set(bhttp::field::content_type, content_type);
    req.body() = body;
  }
  req.prepare_payload();
  return req;
}

StatusOr<std::unique_ptr<Connection>> Client::Acquire(bool* pooled) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      *pooled = true;
      return c;
    }
  }
  *pooled = false;
  return Connection::Open(credentials_.server, tls_.get(), options_.connect_timeout);
}

void Client::Release(std::unique_ptr<Connection> connection) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(connection));
}

StatusOr<ApiResponse> Client::Send(verb method, const std::string& target, const std::string& body,
                                   const std::string& content_type) {
  const http::Request request = MakeRequest(method, target, body, content_type);
  for (;;) {
    bool pooled = false;
    auto connection = Acquire(&pooled);
    if (!connection.ok()) return CallFailed(method, target, connection.status());
    bool nothing_back = false;
    auto response = (*connection)->RoundTrip(request, options_.call_timeout, &nothing_back);
    if (!response.ok()) {
      if (pooled && nothing_back) continue;  // the server closed an idle connection: a new one
      return CallFailed(method, target, response.status());
    }
    if ((*connection)->reusable()) Release(std::move(connection).value());
    return ApiResponse{response->result_int(), std::move(response->body())};
  }
}

StatusOr<Json> Client::Call(verb method, const std::string& target, const std::string& body,
                            const std::string& content_type) {
  auto response = Send(method, target, body, content_type);
  if (!response.ok()) return response.status();
  const std::string what = VerbName(method) + " " + target;
  if (!response->ok()) return ToStatus(what, ParseApiStatus(response->code, response->body));
  return ParseBody(method, target, *response);
}

StatusOr<Json> Client::Get(const std::string& path) { return Call(verb::get, path); }

StatusOr<ListResult> Client::List(const std::string& collection_path, const ListOptions& options) {
  ListResult result;
  std::string next;
  bool restarted = false;
  for (;;) {
    const std::string target =
        collection_path + QueryString({{"labelSelector", options.label_selector},
                                       {"fieldSelector", options.field_selector},
                                       {"limit", std::to_string(options.page_size)},
                                       {"continue", next}});
    auto response = Send(verb::get, target);
    if (!response.ok()) return response.status();
    if (response->code == 410 && !next.empty() && !restarted) {
      // The continue token expired between pages: start over, once.
      result = {};
      next.clear();
      restarted = true;
      continue;
    }
    if (!response->ok()) {
      return ToStatus("GET " + target, ParseApiStatus(response->code, response->body));
    }
    auto page = ParseBody(verb::get, target, *response);
    if (!page.ok()) return page.status();
    if (page->contains("items") && (*page)["items"].is_array()) {
      for (auto& item : (*page)["items"]) result.items.push_back(std::move(item));
    }
    const Json& meta = page->value("metadata", Json::object());
    result.resource_version = meta.value("resourceVersion", "");
    next = meta.value("continue", "");
    if (next.empty()) return result;
  }
}

StatusOr<Json> Client::Create(const std::string& collection_path, const Json& object) {
  return Call(verb::post, collection_path, object.dump());
}

StatusOr<Json> Client::Replace(const std::string& path, const Json& object) {
  return Call(verb::put, path, object.dump());
}

StatusOr<Json> Client::Patch(const std::string& path, PatchType type, const Json& patch) {
  return Call(verb::patch, path, patch.dump(), PatchContentType(type));
}

StatusOr<Json> Client::Apply(const std::string& path, const Json& object,
                             const std::string& field_manager) {
  return Call(verb::patch, path + QueryString({{"fieldManager", field_manager}, {"force", "true"}}),
              object.dump(), "application/apply-patch+yaml");
}

Status Client::Delete(const std::string& path, Propagation propagation) {
  const Json options = {{"apiVersion", "v1"},
                        {"kind", "DeleteOptions"},
                        {"propagationPolicy", PropagationName(propagation)}};
  auto result = Call(verb::delete_, path, options.dump());
  return result.ok() ? OkStatus() : result.status();
}

StatusOr<Json> Client::Update(const std::string& path, const std::function<Status(Json&)>& mutate) {
  Status last;
  for (int attempt = 0; attempt < options_.conflict_attempts; ++attempt) {
    auto current = Get(path);
    if (!current.ok()) return current.status();
    Json desired = *current;
    Status changed = mutate(desired);
    if (!changed.ok()) return changed;
    if (desired == *current) return current;
    auto response = Send(verb::put, path, desired.dump());
    if (!response.ok()) return response.status();
    const ApiStatus refusal =
        response->ok() ? ApiStatus{} : ParseApiStatus(response->code, response->body);
    if (response->code == 409) {
      last = ToStatus("PUT " + path, refusal);
      continue;  // someone else wrote in between: read again
    }
    if (!response->ok()) return ToStatus("PUT " + path, refusal);
    return ParseBody(verb::put, path, *response);
  }
  return Status(StatusCode::kUnavailable, "gave up after " +
                                              std::to_string(options_.conflict_attempts) +
                                              " conflicting writes; last: " + last.message());
}

StatusOr<Scale> Client::GetScale(const std::string& path) {
  auto scale = Get(path + "/scale");
  if (!scale.ok()) return scale.status();
  Scale out;
  const Json spec = scale->value("spec", Json::object());
  const Json status = scale->value("status", Json::object());
  out.desired = spec.value("replicas", int64_t{0});
  out.current = status.value("replicas", int64_t{0});
  out.selector = status.value("selector", "");
  return out;
}

Status Client::SetScale(const std::string& path, int64_t replicas) {
  auto result = Patch(path + "/scale", PatchType::kMerge, Json{{"spec", {{"replicas", replicas}}}});
  return result.ok() ? OkStatus() : result.status();
}

StatusOr<std::unique_ptr<WatchStream>> Client::Watch(const std::string& collection_path,
                                                     const WatchOptions& options,
                                                     ApiStatus* refusal) {
  const std::string target =
      collection_path + QueryString({{"watch", "1"},
                                     {"labelSelector", options.label_selector},
                                     {"resourceVersion", options.resource_version},
                                     {"allowWatchBookmarks", options.bookmarks ? "true" : ""},
                                     {"timeoutSeconds", std::to_string(options.timeout_seconds)}});
  const std::string what = "watch " + target;
  auto connection = Connection::Open(credentials_.server, tls_.get(), options_.connect_timeout);
  if (!connection.ok()) return CallFailed(verb::get, target, connection.status());
  auto code =
      (*connection)->StartStream(MakeRequest(verb::get, target, {}, {}), options_.call_timeout);
  if (!code.ok()) return CallFailed(verb::get, target, code.status());
  if (*code != 200) {
    std::string body;
    for (int i = 0; i < 64; ++i) {  // an error body is small; bounded
      auto more = (*connection)->ReadBody(&body, options_.call_timeout);
      if (!more.ok() || !*more) break;
    }
    ApiStatus status = ParseApiStatus(*code, body);
    if (refusal != nullptr) *refusal = status;
    return ToStatus(what, status);
  }
  return std::unique_ptr<WatchStream>(new WatchStream(std::move(connection).value(), what));
}

}  // namespace axon::kube
