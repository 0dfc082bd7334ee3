// tlcr/io/model_config.hpp — a TransformerConfig as Hugging Face's config.json.
//
// Reads and writes GPT2Config keys (n_embd, n_layer, n_head, n_positions, ...) and LlamaConfig keys
// (hidden_size, num_hidden_layers, ...), so a Hugging Face GPT-2 directory loads as it is.
// Not here: the struct itself (models/config.hpp), the rest of a model directory
// (io/model_dir.hpp).
#pragma once

#include <limits>
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
         {"num_key_value_heads", c.key_value_heads()},
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
  TLCR_CHECK(j.is_object(), where, ": expected a JSON object, found ", describe_json(j));
  // Each field is read with its type checked, so a wrong type is an error naming the field (never
  // nlohmann-json's own exception, and never a float silently truncated to a size).
  auto wrong = [&](const char* key, const char* expected) {
    detail::fail(where, ": field '", key, "': expected ", expected, ", found ",
                 describe_json(j[key]));
  };
  auto need = [&](const char* key) -> int64_t {
    if (!j.contains(key)) detail::fail(where, ": missing field '", key, "'");
    if (!j[key].is_number_integer()) wrong(key, "an integer");
    return j[key].get<int64_t>();
  };
  auto integer_or = [&](const char* key, int64_t fallback) -> int64_t {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_number_integer()) wrong(key, "an integer");
    return j[key].get<int64_t>();
  };
  auto number_or = [&](const char* key, double fallback) -> double {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_number()) wrong(key, "a number");
    return j[key].get<double>();
  };
  auto flag_or = [&](const char* key, bool fallback) -> bool {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_boolean()) wrong(key, "true or false");
    return j[key].get<bool>();
  };
  auto text_or = [&](const char* key, const char* fallback) -> std::string {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_string()) wrong(key, "a string");
    return j[key].get<std::string>();
  };
  const std::string type = text_or("model_type", "gpt2");
  TransformerConfig c;
  if (type == "gpt2") {
    c.architecture = Architecture::Gpt2;
    c.vocab_size = need("vocab_size");
    c.context_length = need("n_positions");
    c.width = need("n_embd");
    c.layers = need("n_layer");
    c.heads = need("n_head");
    c.norm_epsilon = number_or("layer_norm_epsilon", 1e-5);
    c.mlp_hidden = integer_or("n_inner", c.mlp_hidden);  // null in GPT-2's own config: 4 · width
    c.tied_embeddings = flag_or("tie_word_embeddings", true);
    const std::string activation = text_or("activation_function", "gelu_new");
    if (activation != "gelu_new" && activation != "gelu_pytorch_tanh" && activation != "gelu")
      detail::fail(where, ": field 'activation_function': expected gelu_new, found ", activation);
  } else if (type == "llama") {
    c.architecture = Architecture::Llama;
    c.vocab_size = need("vocab_size");
    c.context_length = need("max_position_embeddings");
    c.width = need("hidden_size");
    c.mlp_hidden = need("intermediate_size");
    c.layers = need("num_hidden_layers");
    c.heads = need("num_attention_heads");
    c.kv_heads = integer_or("num_key_value_heads", c.heads);
    if (c.kv_heads <= 0 || c.kv_heads > c.heads || c.heads % c.kv_heads != 0)
      detail::fail(where, ": field 'num_key_value_heads' is ", c.kv_heads,
                   "; expected a divisor of num_attention_heads (", c.heads, ")");
    // What would make the model compute something else is refused, never ignored.
    if (c.width % c.heads == 0 && integer_or("head_dim", c.width / c.heads) != c.width / c.heads)
      detail::fail(where, ": field 'head_dim' is ", j["head_dim"].get<int64_t>(),
                   "; only hidden_size / num_attention_heads (", c.width / c.heads,
                   ") is supported");
    for (const char* key : {"attention_bias", "mlp_bias"})
      if (flag_or(key, false)) detail::fail(where, ": field '", key, "' is true; not supported");
    if (j.contains("rope_scaling") && !j["rope_scaling"].is_null())
      detail::fail(where, ": field 'rope_scaling' is ", describe_json(j["rope_scaling"]),
                   "; scaled rotary positions are not supported");
    const std::string activation = text_or("hidden_act", "silu");
    if (activation != "silu")
      detail::fail(where, ": field 'hidden_act': expected silu, found ", activation);
    c.norm_epsilon = number_or("rms_norm_eps", 1e-6);
    c.rope_theta = number_or("rope_theta", 10000.0);
    c.tied_embeddings = flag_or("tie_word_embeddings", false);
  } else {
    detail::fail(where, ": field 'model_type': expected \"gpt2\" or \"llama\", found \"", type,
                 "\"");
  }
  auto token = [&](const char* key) {  // absent, null or not an id (a list in some configs): none
    if (!j.contains(key) || !j[key].is_number_integer()) return int32_t{-1};
    const int64_t id = j[key].get<int64_t>();
    if (id < 0 || id > std::numeric_limits<int32_t>::max()) wrong(key, "a token id");
    return static_cast<int32_t>(id);
  };
  c.bos_token = token("bos_token_id"), c.eos_token = token("eos_token_id"),
  c.pad_token = token("pad_token_id");
  c.validate();
  return c;
}

}  // namespace tlcr
