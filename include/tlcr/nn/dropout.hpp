// tlcr/nn/dropout.hpp — the dropout of one training forward pass: how much at each kind of site,
// and the seed every site's mask is derived from.
//
// Sites (GPT-2's placement): the summed embeddings; each block's attention probabilities; each
// block's attention and MLP outputs before they join the residual stream ("residual"). A pass's
// masks are pure functions of its seed (ops/dropout.hpp), so a trainer that seeds each
// micro-batch from (run seed, step, micro-batch) resumes bit for bit with nothing saved.
// Not here: the mask kernels (ops/dropout.hpp, ops/attention.hpp); which trainers use it
// (train/lm_trainer.hpp). Inference, generation and PPO run without dropout.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "tlcr/core/rng.hpp"
#include "tlcr/ops/attention.hpp"
#include "tlcr/ops/dropout.hpp"

namespace tlcr {

// Drop probabilities, each in [0, 1).
struct DropoutRates {
  double embedding = 0;  // after token (+ position) embeddings
  double residual = 0;   // attention and MLP outputs, before the residual add
  double attention = 0;  // attention probabilities

  bool any() const { return embedding > 0 || residual > 0 || attention > 0; }
  void validate() const {
    for (double p : {embedding, residual, attention})
      TLCR_CHECK(p >= 0 && p < 1, "dropout: each rate must be in [0, 1), got embedding ", embedding,
                 ", residual ", residual, ", attention ", attention);
  }
  nlohmann::json to_json() const {
    return {{"embedding", embedding}, {"residual", residual}, {"attention", attention}};
  }
};

// One forward pass's dropout. The default (all rates 0) is no dropout.
struct Dropout {
  DropoutRates rates;
  uint64_t seed = 0;

  bool active() const { return rates.any(); }

  // The sites of one pass, each with its own mask seed.
  enum class Site : uint64_t { Embedding, Attention, AttentionOutput, MlpOutput };
  uint64_t site_seed(Site site, int64_t layer = 0) const {
    return counter_hash(seed, uint64_t(layer) * 4 + uint64_t(site));
  }
  AttentionDropout attention_of(int64_t layer) const {
    return {rates.attention, site_seed(Site::Attention, layer)};
  }

  // The pass of micro-batch `micro` in step `step` of a run seeded `run_seed`.
  static Dropout for_step(const DropoutRates& rates, uint64_t run_seed, int64_t step,
                          int64_t micro) {
    return {rates, counter_hash(counter_hash(run_seed, uint64_t(step)), uint64_t(micro))};
  }
};

}  // namespace tlcr
