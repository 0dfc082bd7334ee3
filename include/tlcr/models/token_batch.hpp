// tlcr/models/token_batch.hpp — TokenBatch: the padded (B, T) token rows a model forward takes.
//
// Input ids, next-token targets (kIgnoreIndex where no loss is wanted), a key mask (1 = real
// token, 0 = padding) and positions that skip padding, so a left-padded row sees the same
// positions as the same row unpadded. Host vectors: a model moves them to its device once per
// forward pass.
// Not here: building batches from data (train/batches.hpp).
// Shape legend: B = batch rows, T = time steps (the padded length).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace tlcr {

inline constexpr int32_t kIgnoreIndex = -100;

enum class Padding { Right, Left };

struct TokenBatch {
  int64_t batch = 0, time = 0;
  std::vector<int32_t> inputs;     // (B·T) token ids; padding holds pad_token
  std::vector<int32_t> targets;    // (B·T) next token, or kIgnoreIndex
  std::vector<uint8_t> key_mask;   // (B·T) 1 = real token, 0 = padding
  std::vector<int32_t> positions;  // (B·T) 0,1,2,… over real tokens; 0 on padding

  int64_t size() const { return batch * time; }
  int64_t target_count() const {
    return std::count_if(targets.begin(), targets.end(),
                         [](int32_t t) { return t != kIgnoreIndex; });
  }
};

// Fills positions from key_mask: each row counts its real tokens from 0.
inline void assign_positions(TokenBatch& batch) {
  batch.positions.assign(batch.size(), 0);
  for (int64_t b = 0; b < batch.batch; ++b) {
    int32_t next = 0;
    for (int64_t t = 0; t < batch.time; ++t) {
      const int64_t i = b * batch.time + t;
      batch.positions[i] = batch.key_mask[i] ? next++ : 0;
    }
  }
}

}  // namespace tlcr
