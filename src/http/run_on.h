// Runs blocking work away from I/O threads. RunOn() moves a call from an I/O coroutine onto a
// thread pool and resumes the coroutine on its own I/O thread with the result, so I/O threads
// never run model code or block on disks. An exception thrown by the call is rethrown in the
// coroutine (never lost on the pool's thread, never leaving the coroutine suspended forever).
// Thread-safe.
#pragma once

#include <exception>
#include <functional>
#include <utility>

#include "http/beast.h"

namespace axon::http {

// T must be default-constructible and movable.
template <typename T>
asio::awaitable<T> RunOn(asio::thread_pool& pool, std::function<T()> fn) {
  auto initiate = [&pool, fn = std::move(fn)](auto handler) mutable {
    asio::post(pool, [fn = std::move(fn), handler = std::move(handler)]() mutable {
      std::exception_ptr error;
      T result{};
      try {
        result = fn();
      } catch (...) {
        error = std::current_exception();
      }
      auto io = asio::get_associated_executor(handler);
      asio::post(io, [handler = std::move(handler), error, result = std::move(result)]() mutable {
        std::move(handler)(error, std::move(result));
      });
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable),
                                          void(std::exception_ptr, T)>(std::move(initiate),
                                                                       asio::use_awaitable);
}

}  // namespace axon::http
