// SHA-256 digests (OpenSSL), hex-encoded. Used to name content-addressed bundles and to store
// API keys without keeping them. Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

namespace axon {

// Incremental: Add() any number of times, then Hex() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Add(std::string_view bytes);
  // 64 lowercase hex digits. The digest is final: call once.
  std::string Hex();

 private:
  void* ctx_;  // EVP_MD_CTX
};

std::string Sha256Hex(std::string_view bytes);

}  // namespace axon
