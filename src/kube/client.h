// A client of the Kubernetes API: get, list, create, replace, patch, delete and watch on
// resource paths (see resource.h), the scale subresource, and read-modify-write with
// optimistic concurrency. Speaks HTTPS (or HTTP) to the API server with the credentials it is
// given; no kubectl, no other client library.
//
// Errors are Status values whose message carries the API server's own message, reason and
// HTTP code ("PUT /apis/apps/v1/...: Operation cannot be fulfilled ... (Conflict, HTTP 409)").
// Codes: 400/401/403/422 -> kInvalidArgument, 404 -> kNotFound, 409 -> kAlreadyExists,
// 410/429/5xx and network failures -> kUnavailable, anything else -> kInternal.
//
// Threading: a Client is thread-safe, and calls do not wait for each other: each call runs on
// its caller's thread over a connection of its own (an idle keep-alive connection from the
// pool, or a new one), so a slow call blocks only its caller. Every call has a deadline
// (ClientOptions). A WatchStream is used by one thread; its Cancel() may come from any thread.
// The Client must outlive the WatchStreams it returns.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "kube/connection.h"
#include "kube/credentials.h"

namespace axon::kube {

using Json = nlohmann::json;

// The API server's account of a failed call (a metav1.Status object).
struct ApiStatus {
  unsigned code = 0;   // HTTP status code
  std::string reason;  // "Conflict", "AlreadyExists", "Expired", "Forbidden", ...
  std::string message;
};

// Reads a response body as a Status object; a body that is not one becomes the message.
ApiStatus ParseApiStatus(unsigned http_code, const std::string& body);
// The Status for a failed call; `what` names the call ("GET /api/v1/...").
Status ToStatus(const std::string& what, const ApiStatus& api_status);

// A response of any HTTP status.
struct ApiResponse {
  unsigned code = 0;
  std::string body;
  bool ok() const { return code >= 200 && code < 300; }
};

enum class PatchType {
  kMerge,           // application/merge-patch+json (RFC 7386)
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in kinds only)
  kJsonPatch,       // application/json-patch+json (RFC 6902)
};

enum class Propagation { kBackground, kForeground, kOrphan };

struct ListOptions {
  std::string label_selector;  // "a=b,c" (see LabelSelector() in resource.h)
  std::string field_selector;
  int64_t page_size = 500;  // `limit`; pages are followed with `continue`
};

struct ListResult {
  std::vector<Json> items;
  std::string resource_version;  // the list's, to start a watch from
};

struct WatchOptions {
  std::string label_selector;
  std::string resource_version;  // "" = from now on ("0" and empty both mean any)
  int timeout_seconds = 300;     // the server ends the watch after this; we reconnect
  bool bookmarks = true;         // allowWatchBookmarks
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  Json object;  // the object; for kError a Status object (see ParseApiStatus)
};

// The scale subresource of a Deployment (or any scalable kind).
struct Scale {
  int64_t desired = 0;  // spec.replicas
  int64_t current = 0;  // status.replicas
  std::string selector;
};

struct ClientOptions {
  Millis connect_timeout{10'000};
  Millis call_timeout{30'000};  // one request and its whole response
  size_t max_idle_connections = 16;
  int conflict_attempts = 5;  // Update(): reads and writes before giving up on 409s
  std::string user_agent = "axon";
};

// One watch: a streamed response of JSON lines, one event each.
class WatchStream {
 public:
  // Blocks until the next event. nullopt when the server ended the watch (its timeout passed);
  // an error when the stream broke or stayed silent longer than `idle_timeout`.
  StatusOr<std::optional<WatchEvent>> Next(Millis idle_timeout);
  // Makes a blocked or later Next() fail. Any thread.
  void Cancel() { connection_->Cancel(); }

 private:
  friend class Client;
  WatchStream(std::unique_ptr<Connection> c, std::string what)
      : connection_(std::move(c)), what_(std::move(what)) {}
  std::unique_ptr<Connection> connection_;
  const std::string what_;
  std::string pending_;  // bytes after the last complete line
  bool ended_ = false;
};

class Client {
 public:
  // Checks the credentials' certificates and keys (errors say which one is bad); does not
  // contact the server.
  static StatusOr<std::unique_ptr<Client>> New(Credentials credentials, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Any request: `target` is a path with its query ("/api/v1/pods?limit=1"). A response of any
  // HTTP status is a value; only a failure to talk to the server is an error.
  StatusOr<ApiResponse> Send(http::bhttp::verb method, const std::string& target,
                             const std::string& body = {},
                             const std::string& content_type = "application/json");

  StatusOr<Json> Get(const std::string& path);
  // Every page of a collection.
  StatusOr<ListResult> List(const std::string& collection_path, const ListOptions& options = {});
  StatusOr<Json> Create(const std::string& collection_path, const Json& object);
  // PUT: the object must carry the metadata.resourceVersion it was read at (409 otherwise).
  StatusOr<Json> Replace(const std::string& path, const Json& object);
  StatusOr<Json> Patch(const std::string& path, PatchType type, const Json& patch);
  // Server-side apply (PATCH application/apply-patch+yaml) as `field_manager`, forcing
  // conflicts with other managers: creates the object or makes the fields this manager owns
  // exactly `object`'s.
  StatusOr<Json> Apply(const std::string& path, const Json& object,
                       const std::string& field_manager = "axon");
  // kNotFound when there is no such object.
  Status Delete(const std::string& path, Propagation propagation = Propagation::kBackground);
  // Read-modify-write: GET, `mutate` (an error from it is returned as is), PUT; on 409
  // Conflict reads again and retries, at most ClientOptions::conflict_attempts times. Returns
  // the object as written (or as read, when `mutate` changed nothing).
  StatusOr<Json> Update(const std::string& path, const std::function<Status(Json&)>& mutate);

  // The scale subresource of the object at `path` (e.g. a Deployment's).
  StatusOr<Scale> GetScale(const std::string& path);
  Status SetScale(const std::string& path, int64_t replicas);

  // Starts a watch on a collection. When the server refuses it, the error is returned and
  // `*refusal` (if given) gets the server's Status (code 410: the resourceVersion is too old,
  // list again).
  StatusOr<std::unique_ptr<WatchStream>> Watch(const std::string& collection_path,
                                               const WatchOptions& options,
                                               ApiStatus* refusal = nullptr);

  const Credentials& credentials() const { return credentials_; }
  const ClientOptions& options() const { return options_; }

 private:
  Client(Credentials credentials, ClientOptions options);
  Status Init();
  http::Request MakeRequest(http::bhttp::verb method, const std::string& target,
                            const std::string& body, const std::string& content_type);
  std::string BearerToken();
  // An idle pooled connection (`*pooled` = true) or a new one.
  StatusOr<std::unique_ptr<Connection>> Acquire(bool* pooled);
  void Release(std::unique_ptr<Connection> connection);
  StatusOr<Json> Call(http::bhttp::verb method, const std::string& target,
                      const std::string& body = {},
                      const std::string& content_type = "application/json");

  const Credentials credentials_;
  const ClientOptions options_;
  std::unique_ptr<ssl::context> tls_;  // null for http://

  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  std::string token_;                              // guarded by mu_ (from token_file)
  std::filesystem::file_time_type token_mtime_;    // guarded by mu_
};

}  // namespace axon::kube
