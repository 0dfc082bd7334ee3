// tlcr/io/model_config.hpp — a TransformerConfig as Hugging Face's config.json.
//
// Reads and writes GPT2Config keys (n_embd, n_layer, n_head, n_positions, ...) and LlamaConfig keys
// (hidden_size, num_hidden_layers, ...), so a Hugging Face GPT-2 directory loads as it is.
// Not here: the struct itself (models/config.hpp), the rest of a model directory
// (io/model_dir.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tlcr/models/config.hpp"
#include "tlcr/text/json_describe.hpp"

namespace tlcr {

// Hugging Face config.json (GPT2Config or LlamaConfig keys).
inline nlohmann::json to_json(const TransformerConfig& c) {
  nlohmann::json j;
  if (c.architecture == Architecture::Gpt2) {
    j = {{"model_type", "gpt2"},
         {"architectures", {"GPT2LMHeadModel"}},
         {"vocab_size", c.vocab_size},
         {"n_positions", c.context_length},
         {"n_ctx", c.context_length},
         {"n_embd", c.width},
         {"n_layer", c.layers},
         {"n_head", c.heads},
         {"layer_norm_epsilon", c.norm_epsilon},
         {"activation_function", "gelu_new"},
         {"tie_word_embeddings", c.tied_embeddings}};
    if (c.mlp_hidden > 0) j["n_inner"] = c.mlp_hidden;
  } else {
    j = {{"model_type", "llama"},
         {"architectures", {"LlamaForCausalLM"}},
         {"vocab_size", c.vocab_size},
         {"max_position_embeddings", c.context_length},
         {"hidden_size", c.width},
         {"intermediate_size", c.hidden()},
         {"num_hidden_layers", c.layers},
         {"num_attention_heads", c.heads},
         {"num_key_value_heads", c.heads},
         {"rms_norm_eps", c.norm_epsilon},
         {"rope_theta", c.rope_theta},
         {"hidden_act", "silu"},
         {"tie_word_embeddings", c.tied_embeddings}};
  }
  if (c.bos_token >= 0) j["bos_token_id"] = c.bos_token;
  if (c.eos_token >= 0) j["eos_token_id"] = c.eos_token;
  if (c.pad_token >= 0) j["pad_token_id"] = c.pad_token;
  return j;
}

// Reads config.json; `where` names the file in error messages.
inline TransformerConfig config_from_json(const nlohmann::json& j,
                                          const std::string& where = "config.json") {
  auto need = [&](const char* key) -> const nlohmann::json& {
    if (!j.contains(key)) detail::fail(where, ": missing field '", key, "'");
    if (!j[key].is_number())
      detail::fail(where, ": field '", key, "': expected a number, found ", describe_json(j[key]));
    return j[key];
  };
  const std::string type = j.value("model_type", std::string("gpt2"));
  TransformerConfig c;
  if (type == "gpt2") {
    c.architecture = Architecture::Gpt2;
    c.vocab_size = need("vocab_size").get<int64_t>();
    c.context_length = need("n_positions").get<int64_t>();
    c.width = need("n_embd").get<int64_t>();
    c.layers = need("n_layer").get<int64_t>();
    c.heads = need("n_head").get<int64_t>();
    c.norm_epsilon = j.value("layer_norm_epsilon", 1e-5);
    if (j.contains("n_inner") && j["n_inner"].is_number())
      c.mlp_hidden = j["n_inner"].get<int64_t>();
    c.tied_embeddings = j.value("tie_word_embeddings", true);
    const std::string activation = j.value("activation_function", std::string("gelu_new"));
    if (activation != "gelu_new" && activation != "gelu_pytorch_tanh" && activation != "gelu")
      detail::fail(where, ": field 'activation_function': expected gelu_new, found ", activation);
  } else if (type == "llama") {
    c.architecture = Architecture::Llama;
    c.vocab_size = need("vocab_size").get<int64_t>();
    c.context_length = need("max_position_embeddings").get<int64_t>();
    c.width = need("hidden_size").get<int64_t>();
    c.mlp_hidden = need("intermediate_size").get<int64_t>();
    c.layers = need("num_hidden_layers").get<int64_t>();
    c.heads = need("num_attention_heads").get<int64_t>();
    if (j.value("num_key_value_heads", c.heads) != c.heads)
      detail::fail(where,
                   ": field 'num_key_value_heads': grouped-query attention is not supported");
    c.norm_epsilon = j.value("rms_norm_eps", 1e-6);
    c.rope_theta = j.value("rope_theta", 10000.0);
    c.tied_embeddings = j.value("tie_word_embeddings", false);
  } else {
    detail::fail(where, ": field 'model_type': expected \"gpt2\" or \"llama\", found \"", type,
                 "\"");
  }
  auto token = [&](const char* key) {
    return j.contains(key) && j[key].is_number_integer() ? j[key].get<int32_t>() : -1;
  };
  c.bos_token = token("bos_token_id"), c.eos_token = token("eos_token_id"),
  c.pad_token = token("pad_token_id");
  c.validate();
  return c;
}

}  // namespace tlcr
