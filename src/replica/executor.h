// Execution threads for model code, apart from the I/O threads. RunOn() moves a call from an
// I/O coroutine onto the pool and resumes the coroutine on its own I/O thread with the result,
// so I/O threads never run model code. Thread-safe.
#pragma once

#include <functional>
#include <utility>

#include "http/beast.h"

namespace axon::replica {

template <typename T>
http::asio::awaitable<T> RunOn(http::asio::thread_pool& pool, std::function<T()> fn) {
  namespace asio = http::asio;
  auto initiate = [&pool, fn = std::move(fn)](auto handler) mutable {
    asio::post(pool, [fn = std::move(fn), handler = std::move(handler)]() mutable {
      T result = fn();
      auto io = asio::get_associated_executor(handler);
      asio::post(io, [handler = std::move(handler), result = std::move(result)]() mutable {
        std::move(handler)(std::move(result));
      });
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      std::move(initiate), asio::use_awaitable);
}

}  // namespace axon::replica
