// The durable work queue: items that wait for a worker, are leased by one with a deadline,
// and end completed (with a result) or failed (with an error), then are kept for a retention
// period and removed. It backs AsyncAPI requests; BatchAPI batches and TaskAPI jobs are the
// same shape (a queue per job, an item per batch or task; operator/job_runner.h).
//
// Delivery is at least once: a lease that is neither completed nor failed by its deadline, or
// that its worker gives back (the replica running it died), returns the item to its queue,
// unless it has been leased max_attempts times already; then it fails with the last reason.
// A lease is identified by the item and its attempt number: a worker whose lease expired
// cannot complete an item that another worker holds now (Complete answers false).
//
// Times are unix milliseconds passed in by the caller (tests use any clock).
//
// Implementations: SqliteWorkQueue (sqlite_work_queue.h, local mode). A Kubernetes operator
// could serve the same interface from a store of its own.
//
// Threading: every method may be called from any thread. Once Enqueue() returns OK the item
// survives a SIGKILL of the process (and, for SqliteWorkQueue, a power loss).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace axon::store {

// Cortex's AsyncAPI statuses.
enum class ItemStatus { kInQueue = 0, kInProgress = 1, kCompleted = 2, kFailed = 3 };
// "in_queue", "in_progress", "completed", "failed".
std::string_view ItemStatusName(ItemStatus status);

struct NewItem {
  std::string queue;  // e.g. the API's name
  std::string id;     // unique within the queue (the caller makes it)
  std::string payload;
  std::string content_type;
  int64_t max_attempts = 3;            // leases before the item fails
  int64_t retention_ms = 604'800'000;  // how long it is kept once finished (7 days)
};

// One item as a reader sees it.
struct Item {
  std::string queue;
  std::string id;
  ItemStatus status = ItemStatus::kInQueue;
  std::string result;       // completed: the worker's answer
  std::string result_type;  // its content type
  std::string error;        // failed: why
  int64_t attempts = 0;     // how many times it was leased
  int64_t created_ms = 0;
  int64_t updated_ms = 0;  // its last change of status
};

// An item handed to a worker.
struct Lease {
  std::string queue;
  std::string id;
  int64_t attempt = 0;  // 1 for the first lease
  std::string worker;
  int64_t deadline_ms = 0;
  std::string payload;
  std::string content_type;
};

struct QueueCounts {
  int64_t in_queue = 0;
  int64_t in_progress = 0;
  int64_t completed = 0;  // CountAll() only
  int64_t failed = 0;     // CountAll() only
};

class WorkQueue {
 public:
  virtual ~WorkQueue() = default;

  // Stores a new item at the end of its queue. AlreadyExists when the queue holds that id.
  virtual Status Enqueue(const NewItem& item, int64_t now_ms) = 0;
  // Stores every item, in order, in one transaction: all of them or (an error) none.
  virtual Status EnqueueAll(const std::vector<NewItem>& items, int64_t now_ms) = 0;
  // The oldest waiting item of `queue`, now leased by `worker` until `deadline_ms`; nullopt
  // when none waits.
  virtual StatusOr<std::optional<Lease>> Take(std::string_view queue, std::string_view worker,
                                              int64_t deadline_ms, int64_t now_ms) = 0;
  // Finishes the lease's item. False (and no change) when the lease is no longer current: it
  // expired, was given back, or the item is gone.
  virtual StatusOr<bool> Complete(const Lease& lease, std::string_view result,
                                  std::string_view result_type, int64_t now_ms) = 0;
  virtual StatusOr<bool> Fail(const Lease& lease, std::string_view error, int64_t now_ms) = 0;
  // The worker could not finish it (it died, say): back to the queue, or failed with `reason`
  // when it has had max_attempts leases. False when the lease is no longer current.
  virtual StatusOr<bool> GiveBack(const Lease& lease, std::string_view reason, int64_t now_ms) = 0;
  // Gives back every lease whose deadline has passed; returns how many.
  virtual StatusOr<int64_t> ExpireLeases(int64_t now_ms) = 0;
  // Gives back every lease `worker` holds (a worker that restarted holds none any more).
  virtual StatusOr<int64_t> ReleaseWorker(std::string_view worker, int64_t now_ms) = 0;

  // NotFound when the queue has no item `id` (never had one, or it expired).
  virtual StatusOr<Item> Get(std::string_view queue, std::string_view id) const = 0;
  // Items waiting and running (cheap: the autoscaler reads it every pass).
  virtual StatusOr<QueueCounts> Counts(std::string_view queue) const = 0;
  // Counts() and the finished items not yet removed, completed and failed.
  virtual StatusOr<QueueCounts> CountAll(std::string_view queue) const = 0;
  // Up to `limit` failed items of `queue` (id and error), oldest first: its dead letters.
  virtual StatusOr<std::vector<Item>> Failed(std::string_view queue, int64_t limit) const = 0;
  // Removes finished items whose retention has passed; returns how many.
  virtual StatusOr<int64_t> RemoveExpired(int64_t now_ms) = 0;
  // Removes every item of `queue` (its API was deleted).
  virtual Status DropQueue(std::string_view queue) = 0;
};

}  // namespace axon::store
