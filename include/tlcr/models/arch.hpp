// tlcr/models/arch.hpp — the two architecture presets as policy structs: which norm and MLP a
// block uses, how positions enter, and the Hugging Face parameter names that make checkpoints load.
//   Gpt2Arch:  LayerNorm, learned positions (wpe), GELU MLP, fused qkv with biases, (in,out) weights
//   LlamaArch: RmsNorm, rotary positions, SwiGLU MLP, separate q/k/v without biases, (out,in) weights
// Not here: the model that uses them (models/transformer.hpp).
#pragma once

#include <string>
#include <string_view>

#include "tlcr/models/config.hpp"
#include "tlcr/nn/block.hpp"

namespace tlcr {

struct Gpt2Arch {
  static constexpr Architecture kArchitecture = Architecture::Gpt2;  // what config.json says
  template <class T, class D>
  using Norm = LayerNorm<T, D>;
  template <class T, class D>
  using Mlp = GeluMlp<T, D>;
  static constexpr bool kLearnedPositions = true, kRotary = false, kFusedQkv = true, kBiases = true;
  static constexpr WeightLayout kHeadLayout = WeightLayout::OutIn;  // lm_head / wte are (V, C)
  static std::string token_embedding() { return "wte.weight"; }
  static std::string position_embedding() { return "wpe.weight"; }
  static std::string block(int64_t i) { return "h." + std::to_string(i) + "."; }
  static std::string norm1() { return "ln_1"; }
  static std::string norm2() { return "ln_2"; }
  static std::string attention() { return "attn."; }
  static std::string mlp() { return "mlp."; }
  static std::string final_norm() { return "ln_f"; }
  static std::string lm_head() { return "lm_head"; }
};

struct LlamaArch {
  static constexpr Architecture kArchitecture = Architecture::Llama;
  template <class T, class D>
  using Norm = RmsNorm<T, D>;
  template <class T, class D>
  using Mlp = SwiGluMlp<T, D>;
  static constexpr bool kLearnedPositions = false, kRotary = true, kFusedQkv = false,
                        kBiases = false;
  static constexpr WeightLayout kHeadLayout = WeightLayout::OutIn;
  static std::string token_embedding() { return "model.embed_tokens.weight"; }
  static std::string position_embedding() { return ""; }
  static std::string block(int64_t i) { return "model.layers." + std::to_string(i) + "."; }
  static std::string norm1() { return "input_layernorm"; }
  static std::string norm2() { return "post_attention_layernorm"; }
  static std::string attention() { return "self_attn."; }
  static std::string mlp() { return "mlp."; }
  static std::string final_norm() { return "model.norm"; }
  static std::string lm_head() { return "lm_head"; }
};

inline const char* architecture_name(Architecture architecture) {
  return architecture == Architecture::Gpt2 ? "GPT-2" : "Llama";
}

// The one comparison of the compile-time preset with a run-time config: fails unless `config`
// describes an Arch model; `where` names the config (a file, a constructor) in the error.
template <class Arch>
void check_architecture(const TransformerConfig& config, std::string_view where) {
  TLCR_CHECK(config.architecture == Arch::kArchitecture, where, " describes a ",
             architecture_name(config.architecture), " model, not a ",
             architecture_name(Arch::kArchitecture), " one");
}

}  // namespace tlcr
