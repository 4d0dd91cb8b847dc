// A fixed-capacity ring of values: Push() overwrites the oldest once full, so memory stays at
// `capacity` values however long it runs. Not thread-safe: the owner locks (ApiHistory does).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace axon::operator_ {

template <typename T>
class RingBuffer {
 public:
  // capacity >= 1; storage for all of it is taken at once.
  explicit RingBuffer(size_t capacity) : slots_(capacity == 0 ? 1 : capacity) {}

  void Push(T value) {
    slots_[next_] = std::move(value);
    next_ = (next_ + 1) % slots_.size();
    if (size_ < slots_.size()) ++size_;
  }

  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }
  bool empty() const { return size_ == 0; }
  // i = 0 is the oldest value, size() - 1 the newest.
  const T& operator[](size_t i) const {
    return slots_[(next_ + slots_.size() - size_ + i) % slots_.size()];
  }
  const T& back() const { return (*this)[size_ - 1]; }

 private:
  std::vector<T> slots_;
  size_t next_ = 0;  // where the next value goes
  size_t size_ = 0;
};

}  // namespace axon::operator_
