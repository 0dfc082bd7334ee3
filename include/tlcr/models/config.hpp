// tlcr/models/config.hpp — the size and architecture of a transformer.
//
// One struct describes both presets: GPT-2 (LayerNorm, learned positions, GELU MLP, tied
// embeddings) and Llama-style (RMSNorm, rotary positions, SwiGLU MLP, untied).
// Not here: parameters or the forward pass (models/transformer.hpp), its config.json form
// (io/model_config.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "tlcr/config.hpp"

namespace tlcr {

enum class Architecture { Gpt2, Llama };

struct TransformerConfig {
  Architecture architecture = Architecture::Gpt2;
  int64_t vocab_size = 512;
  int64_t context_length = 128;  // maximum positions (learned table size; rope has no table)
  int64_t layers = 4;
  int64_t heads = 4;
  int64_t kv_heads = 0;    // key/value heads; 0 → heads. Fewer: grouped-query attention (Llama)
  int64_t width = 256;     // model dimension C
  int64_t mlp_hidden = 0;  // 0 → 4·width (GPT-2); Llama presets set it explicitly
  double norm_epsilon = 1e-5;
  double rope_theta = 10000.0;
  bool tied_embeddings = true;  // LM head reuses the token embedding table
  int32_t bos_token = -1, eos_token = -1, pad_token = -1;  // -1: none

  int64_t head_size() const { return width / heads; }
  int64_t key_value_heads() const { return kv_heads > 0 ? kv_heads : heads; }
  int64_t hidden() const { return mlp_hidden > 0 ? mlp_hidden : 4 * width; }

  void validate() const {
    TLCR_CHECK(vocab_size > 0 && context_length > 0 && layers > 0 && heads > 0 && width > 0,
               "TransformerConfig: sizes must be positive (vocab ", vocab_size, ", context ",
               context_length, ", layers ", layers, ", heads ", heads, ", width ", width, ")");
    TLCR_CHECK(width % heads == 0, "TransformerConfig: width ", width,
               " is not divisible by heads ", heads);
    TLCR_CHECK(kv_heads >= 0 && kv_heads <= heads && heads % key_value_heads() == 0,
               "TransformerConfig: ", heads, " heads cannot share ", kv_heads,
               " key/value heads (expected a divisor of heads)");
    TLCR_CHECK(key_value_heads() == heads || architecture == Architecture::Llama,
               "TransformerConfig: grouped-query attention needs the Llama architecture");
    TLCR_CHECK(architecture != Architecture::Llama || head_size() % 2 == 0,
               "TransformerConfig: rotary positions need an even head size, got ", head_size());
  }

  static TransformerConfig gpt2(int64_t vocab, int64_t context, int64_t layers, int64_t heads,
                                int64_t width) {
    TransformerConfig c;
    c.vocab_size = vocab, c.context_length = context, c.layers = layers, c.heads = heads,
    c.width = width;
    return c;
  }
  static TransformerConfig llama(int64_t vocab, int64_t context, int64_t layers, int64_t heads,
                                 int64_t width) {
    TransformerConfig c = gpt2(vocab, context, layers, heads, width);
    c.architecture = Architecture::Llama;
    c.mlp_hidden = ((8 * width / 3 + 63) / 64) * 64;  // SwiGLU's 2/3 · 4C, rounded up to 64
    c.norm_epsilon = 1e-6;
    c.tied_embeddings = false;
    return c;
  }
};

}  // namespace tlcr
