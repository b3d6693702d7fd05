#pragma once
/// Random bytes for tokens, from OpenSSL's CSPRNG, drawn in blocks. Each RAND_bytes call costs a
/// getpid system call (OpenSSL's fork check) and a DRBG setup; a waiting-room join needs 16 bytes
/// and drawing them one call per join cost the join path ~10 % of its CPU (perf,
/// docs/benchmarks.md). A block of 4 KiB per thread serves 256 tokens per call; bytes handed out
/// are wiped from the block. The process never forks after start-up (the embedded Redis is exec'd
/// at once), so no two processes share a block.

#include <cstddef>

namespace joopang {

/// Fills `out` with `n` bytes from the calling thread's block (refilled from RAND_bytes when
/// used up). Throws std::runtime_error when OpenSSL cannot give random bytes.
void RandomBytes(unsigned char* out, std::size_t n);

}  // namespace joopang
