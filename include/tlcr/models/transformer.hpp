// tlcr/models/transformer.hpp — the decoder-only transformer every model in tlcr is made of.
//
// Transformer<T, Arch> = token (+ learned position) embeddings → L pre-norm blocks → final norm,
// with the heads a role needs, all parameters in one ParameterStore named like Hugging Face's:
//   policy / reference / SFT model:  LM head (tied to the token embedding, or untied)
//   critic:                          value head, one scalar per token            ("v_head")
//   discriminator:                   token-classifier head, K logits per token, no bias ("score")
//   Bradley–Terry reward model:      sequence-scalar head, read at the last real token ("score")
// Padding-aware: every row carries a key mask and positions that skip padding, so a left-padded
// row computes exactly what the same row unpadded does. With a KvCache, a call processes only the
// new steps (generation). A training pass may apply dropout (nn/dropout.hpp); the default is none.
// Not here: training loops (train/), sampling (generate/), checkpoint files (io/model_dir.hpp).
// Shape legend: B = batch, T = time, C = width, V = vocabulary, K = token classes.
#pragma once

#include <cmath>
#include <concepts>
#include <initializer_list>
#include <span>
#include <vector>

#include "tlcr/autograd/fn/elementwise.hpp"
#include "tlcr/autograd/fn/embedding.hpp"
#include "tlcr/autograd/fn/linear_cross_entropy.hpp"
#include "tlcr/autograd/fn/matmul.hpp"
#include "tlcr/autograd/fn/reduce.hpp"
#include "tlcr/autograd/fn/shape_ops.hpp"
#include "tlcr/models/arch.hpp"
#include "tlcr/models/config.hpp"
#include "tlcr/models/token_batch.hpp"

namespace tlcr {

// Which heads a model carries on top of its trunk.
struct HeadConfig {
  bool lm = true;               // next-token logits (V)
  bool value = false;           // one scalar per token
  int64_t token_classes = 0;    // K logits per token (2 for the TLCR discriminator), 0 = none
  bool sequence_score = false;  // one scalar per sequence at its last real token
};

// The tokens of one forward call. Without a cache: ids, key_mask and positions are (B·T).
// With a cache: ids and positions cover the new steps (B·T), key_mask covers the cache
// (B·capacity).
struct ModelInput {
  int64_t batch = 0, time = 0;
  std::span<const int32_t> ids;
  std::span<const uint8_t> key_mask;   // empty = no padding
  std::span<const int32_t> positions;  // empty = 0 … T−1 in every row

  static ModelInput from(const TokenBatch& b) {
    return {b.batch, b.time, b.inputs, b.key_mask, b.positions};
  }
};

// A forward call's index data on device D: ids (B·T) and the layout (positions required).
template <class D>
struct DeviceTokens {
  int64_t batch = 0, time = 0;
  Tensor<int32_t, D> ids;
  SequenceLayout<D> layout;
};

// A forward call's index data on device D together with further int32 arrays the caller reads on
// the device (targets, gather indices): indices[i] is the i-th extra array. Built by
// Transformer::upload in two crossings, whatever the number of arrays.
template <class D>
struct DeviceBatch {
  DeviceTokens<D> tokens;
  std::vector<Tensor<int32_t, D>> indices;
};

template <class T, class Arch = Gpt2Arch, class D = Cpu>
class Transformer {
 public:
  using Block = TransformerBlock<T, Arch::template Norm, Arch::template Mlp, D>;
  using FinalNorm = typename Arch::template Norm<T, D>;

  // Registers every parameter and initialises it from `seed` (GPT-2 scheme: N(0, 0.02) weights,
  // residual projections scaled by 1/√(2L), zero biases, unit norm gains).
  explicit Transformer(const TransformerConfig& model_config, const HeadConfig& head_config = {},
                       uint64_t seed = 0)
      : config_(model_config), heads_(head_config) {
    config_.validate();
    check_architecture<Arch>(config_, "Transformer: the config");
    const int64_t C = config_.width;
    token_embedding_ = params_.add(Arch::token_embedding(), Shape{config_.vocab_size, C});
    if constexpr (Arch::kLearnedPositions)
      position_embedding_ =
          params_.add(Arch::position_embedding(), Shape{config_.context_length, C});
    for (int64_t i = 0; i < config_.layers; ++i) {
      const std::string prefix = Arch::block(i);
      Block block;
      block.norm1 = FinalNorm(params_, prefix + Arch::norm1(), C, config_.norm_epsilon);
      block.attention = SelfAttention<T, D>(params_, prefix + Arch::attention(), C, config_.heads,
                                            Arch::kFusedQkv, Arch::kBiases, Arch::kRotary,
                                            config_.rope_theta, config_.key_value_heads());
      block.norm2 = FinalNorm(params_, prefix + Arch::norm2(), C, config_.norm_epsilon);
      block.mlp =
          typename Arch::template Mlp<T, D>(params_, prefix + Arch::mlp(), C, config_.hidden());
      blocks_.push_back(std::move(block));
    }
    final_norm_ = FinalNorm(params_, Arch::final_norm(), C, config_.norm_epsilon);
    if (heads_.lm && !config_.tied_embeddings)
      lm_head_ =
          Linear<T, D>(params_, Arch::lm_head(), C, config_.vocab_size, false, Arch::kHeadLayout);
    if (heads_.value)
      value_head_ = Linear<T, D>(params_, "v_head", C, 1, true, WeightLayout::OutIn);
    if (heads_.token_classes > 0)
      classifier_ =
          Linear<T, D>(params_, "score", C, heads_.token_classes, false, WeightLayout::OutIn);
    if (heads_.sequence_score)
      sequence_head_ = Linear<T, D>(params_, "score", C, 1, false, WeightLayout::OutIn);
    params_.finalize();
    initialize(seed);
  }

  const TransformerConfig& config() const { return config_; }
  const HeadConfig& heads() const { return heads_; }
  ParameterStore<T, D>& params() { return params_; }
  const ParameterStore<T, D>& params() const { return params_; }

  // The trunk: hidden states after the final norm, (B,T,C).
  Var<T, D> hidden(const ModelInput& in, KvCache<T, D>* cache = nullptr,
                   const Dropout& dropout = {}) const {
    return hidden(upload(in, {}, cache).tokens, cache, dropout);
  }
  // The index data of `in` on the device, checked as hidden() checks it: ids, positions and the
  // `extra` int32 arrays cross as one upload (views of it come back), the key mask as another.
  // Reusing the result spares a second model, or a second pass, its own uploads.
  DeviceBatch<D> upload(const ModelInput& in,
                        std::initializer_list<std::span<const int32_t>> extra = {},
                        const KvCache<T, D>* cache = nullptr) const {
    const int64_t n = static_cast<int64_t>(in.ids.size());
    TLCR_CHECK(n == in.batch * in.time, "Transformer: ", in.ids.size(), " ids for a batch of ",
               in.batch, "×", in.time);
    TLCR_CHECK(in.positions.empty() || int64_t(in.positions.size()) == n,
               "Transformer: ", in.positions.size(), " positions for ", in.ids.size(), " ids");
    std::vector<int32_t> packed(in.ids.begin(), in.ids.end());
    if (in.positions.empty()) {  // 0 … T−1 after whatever the cache holds
      const int32_t start = cache ? static_cast<int32_t>(cache->length()) : 0;
      for (int64_t i = 0; i < n; ++i) packed.push_back(start + static_cast<int32_t>(i % in.time));
    } else {
      packed.insert(packed.end(), in.positions.begin(), in.positions.end());
    }
    if constexpr (Arch::kLearnedPositions)
      for (int64_t i = n; i < 2 * n; ++i)
        TLCR_CHECK(packed[i] >= 0 && packed[i] < config_.context_length, "Transformer: position ",
                   packed[i], " outside the learned table of ", config_.context_length);
    for (const auto& array : extra) packed.insert(packed.end(), array.begin(), array.end());
    const auto device = Tensor<int32_t, D>::from(Shape{int64_t(packed.size())}, packed);
    DeviceBatch<D> out;
    out.tokens = {in.batch, in.time, device.slice(0, n)};
    out.tokens.layout.positions = device.slice(n, 2 * n);
    if (!in.key_mask.empty())
      out.tokens.layout.key_mask =
          Tensor<uint8_t, D>::from(Shape{int64_t(in.key_mask.size())}, in.key_mask);
    int64_t at = 2 * n;
    for (const auto& array : extra) {
      out.indices.push_back(device.slice(at, at + int64_t(array.size())));
      at += int64_t(array.size());
    }
    return out;
  }
  // The same from index data already on the device (a decoding loop's next step). Positions are
  // required here, and trusted to lie inside a learned position table.
  Var<T, D> hidden(const DeviceTokens<D>& in, KvCache<T, D>* cache = nullptr,
                   const Dropout& drop = {}) const {
    TLCR_CHECK(in.ids.numel() == in.batch * in.time && in.layout.positions.defined() &&
                   in.layout.positions.numel() == in.ids.numel(),
               "Transformer: ", in.ids.numel(), " ids and ",
               in.layout.positions.defined() ? in.layout.positions.numel() : 0,
               " positions for a batch of ", in.batch, "×", in.time);
    drop.rates.validate();
    TLCR_CHECK(!cache || !drop.active(),
               "Transformer: dropout is for training passes, not decoding with a KV cache");
    Var<T, D> x = embed(in, drop);
    for (std::size_t l = 0; l < blocks_.size(); ++l)
      x = blocks_[l](x, in.layout, cache, static_cast<int64_t>(l), drop);
    if (cache) cache->advance(in.time);
    return final_norm_(x);
  }

  // Block `layer`'s attention probabilities over `in`, (B,H,T,T) (SelfAttention::probabilities):
  // for looking at what the model attends to, e.g. attention-based credit. No gradient.
  Tensor<T, D> attention_probabilities(const ModelInput& in, int64_t layer) const {
    TLCR_CHECK(layer >= 0 && layer < static_cast<int64_t>(blocks_.size()),
               "Transformer::attention_probabilities: layer ", layer, " of ", blocks_.size());
    NoGrad no_grad;
    const DeviceTokens<D> up = upload(in, {}, nullptr).tokens;
    Var<T, D> x = embed(up, {});
    for (int64_t l = 0; l < layer; ++l) x = blocks_[l](x, up.layout);
    const Block& block = blocks_[layer];
    return block.attention.probabilities(block.norm1(x), up.layout);
  }

  // Next-token logits (B,T,V) from hidden (B,T,C).
  Var<T, D> lm_logits(const Var<T, D>& h) const {
    TLCR_CHECK(heads_.lm, "Transformer::lm_logits: this model has no LM head");
    return config_.tied_embeddings ? matmul(h, token_embedding_, false, true) : lm_head_(h);
  }
  // Mean next-token cross-entropy (rank 0) of hidden (B,T,C) against targets (B·T; ignore_index
  // rows skipped), without holding the (B·T, V) logits: ops/linear_cross_entropy.hpp.
  Var<T, D> lm_loss(const Var<T, D>& h, std::span<const int32_t> targets,
                    int32_t ignore_index = -100) const {
    return lm_loss_of(h, targets, ignore_index);
  }
  // The same with the targets in an int32 tensor on the device (a template, so that a braced `{}`
  // still means an empty span).
  template <class Targets>
  requires std::same_as<Targets, Tensor<int32_t, D>> Var<T, D> lm_loss(const Var<T, D>& h,
                                                                       const Targets& targets,
                                                                       int32_t ignore_index = -100)
  const { return lm_loss_of(h, targets, ignore_index); }
  // Per-token values (B,T) from hidden (B,T,C).
  Var<T, D> values(const Var<T, D>& h) const {
    TLCR_CHECK(heads_.value, "Transformer::values: this model has no value head");
    return reshape(value_head_(h), Shape{h.shape()[0], h.shape()[1]});
  }
  // Per-token class logits (B,T,K) from hidden (B,T,C).
  Var<T, D> token_logits(const Var<T, D>& h) const {
    TLCR_CHECK(heads_.token_classes > 0,
               "Transformer::token_logits: this model has no token classifier");
    return classifier_(h);
  }
  // One score per row (B), read at the row's last real token: last_index[b] ∈ [0, T).
  Var<T, D> sequence_scores(const Var<T, D>& h, std::span<const int32_t> last_index) const {
    TLCR_CHECK(heads_.sequence_score,
               "Transformer::sequence_scores: this model has no sequence head");
    const std::vector<int32_t> rows = sequence_rows(h.shape()[0], h.shape()[1], last_index);
    return sequence_scores_at(h, Tensor<int32_t, D>::from(Shape{int64_t(rows.size())}, rows));
  }
  // The flat rows b·T + last_index[b] of hidden viewed as (B·T, C) that sequence scores read.
  static std::vector<int32_t> sequence_rows(int64_t B, int64_t time,
                                            std::span<const int32_t> last_index) {
    TLCR_CHECK(static_cast<int64_t>(last_index.size()) == B, "sequence_scores: ", last_index.size(),
               " indices for ", B, " rows");
    std::vector<int32_t> rows(B);
    for (int64_t b = 0; b < B; ++b) {
      TLCR_CHECK(last_index[b] >= 0 && last_index[b] < time, "sequence_scores: row ", b, " index ",
                 last_index[b], " outside [0, ", time, ")");
      rows[b] = static_cast<int32_t>(b * time + last_index[b]);
    }
    return rows;
  }
  // One score per row (B) from the flat rows (B) of sequence_rows, already on the device.
  Var<T, D> sequence_scores_at(const Var<T, D>& h, const Tensor<int32_t, D>& rows) const {
    TLCR_CHECK(heads_.sequence_score,
               "Transformer::sequence_scores: this model has no sequence head");
    const int64_t B = h.shape()[0], time = h.shape()[1], C = h.shape()[2];
    TLCR_CHECK(rows.numel() == B, "sequence_scores: ", rows.numel(), " indices for ", B, " rows");
    // Gather the B chosen rows of hidden viewed as (B·T, C), then score them.
    const Var<T, D> chosen = embedding(reshape(h, Shape{B * time, C}), rows, Shape{B});
    return reshape(sequence_head_(chosen), Shape{B});
  }

 private:
  // lm_loss for targets as a host span or a device tensor.
  template <class Targets>
  Var<T, D> lm_loss_of(const Var<T, D>& h, const Targets& targets, int32_t ignore_index) const {
    TLCR_CHECK(heads_.lm, "Transformer::lm_loss: this model has no LM head");
    if (config_.tied_embeddings)
      return linear_cross_entropy(h, token_embedding_, true, targets, {}, ignore_index);
    TLCR_CHECK(!lm_head_.bias.defined(), "Transformer::lm_loss: the LM head has a bias");
    return linear_cross_entropy(h, lm_head_.weight, lm_head_.layout == WeightLayout::OutIn, targets,
                                {}, ignore_index);
  }

  void initialize(uint64_t seed) {
    Rng rng(seed);
    const double residual_std = 0.02 / std::sqrt(2.0 * config_.layers);
    for (const auto& p : params_.parameters()) {
      const std::string& name = p.name;
      const bool is_norm_gain = p.group == ParamGroup::NoDecay && p.shape.rank == 1 &&
                                name.find("bias") == std::string::npos;
      if (p.group == ParamGroup::NoDecay)
        params_.init_constant(name, is_norm_gain ? T(1) : T(0));
      else if (name.ends_with("c_proj.weight") || name.ends_with("o_proj.weight") ||
               name.ends_with("down_proj.weight"))
        params_.init_normal(name, residual_std, rng);
      else
        params_.init_normal(name, 0.02, rng);
    }
  }

  TransformerConfig config_;
  HeadConfig heads_;
  ParameterStore<T, D> params_;
  // Token (+ learned position) embeddings of `in`, (B,T,C), with embedding dropout.
  Var<T, D> embed(const DeviceTokens<D>& in, const Dropout& drop) const {
    const Shape id_shape{in.batch, in.time};
    Var<T, D> x = embedding(token_embedding_, in.ids, id_shape);
    if constexpr (Arch::kLearnedPositions)
      x = add(x, embedding(position_embedding_, in.layout.positions, id_shape));
    return dropout(x, drop.rates.embedding, drop.site_seed(Dropout::Site::Embedding));
  }

  Var<T, D> token_embedding_, position_embedding_;
  std::vector<Block> blocks_;
  FinalNorm final_norm_;
  Linear<T, D> lm_head_, value_head_, classifier_, sequence_head_;
};

template <class T, class D = Cpu>
using Gpt2 = Transformer<T, Gpt2Arch, D>;
template <class T, class D = Cpu>
using Llama = Transformer<T, LlamaArch, D>;

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_MODELS_TRANSFORMER_INSTANCES(extern_, T)                                \
  extern_ template struct TransformerBlock<T, Gpt2Arch::Norm, Gpt2Arch::Mlp, Cpu>;   \
  extern_ template struct TransformerBlock<T, LlamaArch::Norm, LlamaArch::Mlp, Cpu>; \
  extern_ template class Transformer<T, Gpt2Arch, Cpu>;                              \
  extern_ template class Transformer<T, LlamaArch, Cpu>;
TLCR_DECLARE_INSTANCES(TLCR_MODELS_TRANSFORMER_INSTANCES)

}  // namespace tlcr
