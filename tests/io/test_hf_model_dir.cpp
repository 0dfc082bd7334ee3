// Tests for Hugging Face Llama-family directories (io/model_dir.hpp, io/model_config.hpp,
// nn/attention.hpp): grouped-query attention against the equivalent model with repeated key/value
// heads, sharded model.safetensors.index.json, bf16 weights, rotary inv_freq buffers, and the
// config fields that would change the model being refused.
#include "support/testing.hpp"

#include <cstring>

#include <tlcr/io/model_dir.hpp>

using namespace tlcr;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("tlcr_hf_model_dir_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

template <class T>
Tensor<T> logits_of(const Llama<T>& model, const std::vector<int32_t>& ids) {
  NoGrad no_grad;
  return model.lm_logits(model.hidden({1, static_cast<int64_t>(ids.size()), ids, {}, {}})).value();
}

TransformerConfig small_gqa_config() {
  TransformerConfig c = TransformerConfig::llama(29, 16, 2, 4, 16);  // 4 heads of size 4
  c.kv_heads = 2;
  c.mlp_hidden = 24;
  return c;
}

template <class T>
void perturb(Transformer<T, LlamaArch>& model, uint64_t seed) {
  Rng rng(seed);
  for (T& v : model.params().values()) v += T(0.2) * T(rng.normal());
}

// The rows of a k/v projection weight (Hkv·D, C) with each head's D rows repeated `n` times.
template <class T>
Tensor<T> repeat_head_rows(const Tensor<T>& weight, int64_t head_size, int64_t n) {
  const int64_t kv_rows = weight.dim(0), columns = weight.dim(1);
  Tensor<T> out(Shape{kv_rows * n, columns});
  for (int64_t head = 0; head < kv_rows / head_size; ++head)
    for (int64_t copy = 0; copy < n; ++copy)
      for (int64_t r = 0; r < head_size; ++r)
        std::memcpy(out.data() + ((head * n + copy) * head_size + r) * columns,
                    weight.data() + (head * head_size + r) * columns, columns * sizeof(T));
  return out;
}

}  // namespace

TEST_CASE("repeat_heads: each key/value head serves its group; gradient-checked") {
  Rng rng(41);
  auto x = parameter(testing::random_normal<double>({2, 3, 4, 2}, rng));  // (B,Hkv,T,D)
  const Var<double> y = repeat_heads(x, 2);
  REQUIRE(y.shape() == Shape{2, 6, 4, 2});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 6; ++h)
      for (int64_t i = 0; i < 8; ++i)
        REQUIRE(y.value()[((b * 6 + h) * 8) + i] == x.value()[((b * 3 + h / 2) * 8) + i]);
  TLCR_CHECK_GRADIENTS([&] { return repeat_heads(x, 3); }, {x});
}

TEST_CASE("grouped-query attention equals attention with the key/value heads repeated") {
  const TransformerConfig gqa_config = small_gqa_config();
  Llama<double> gqa(gqa_config, {}, 3);
  perturb(gqa, 4);
  TransformerConfig full_config = gqa_config;
  full_config.kv_heads = 0;
  Llama<double> full(full_config, {}, 5);
  for (const auto& p : full.params().parameters()) {
    const Tensor<double>& source = gqa.params().get(p.name).value();
    const bool kv = p.name.ends_with("k_proj.weight") || p.name.ends_with("v_proj.weight");
    full.params().get(p.name).value().copy_from(
        kv ? repeat_head_rows(source, gqa_config.head_size(), 2) : source);
  }
  CHECK(gqa.params().get("model.layers.0.self_attn.k_proj.weight").shape() == Shape{8, 16});
  const std::vector<int32_t> ids{3, 17, 0, 28, 9, 9, 4};
  CHECK(testing::max_abs_diff(logits_of(gqa, ids), logits_of(full, ids)) < 1e-12);
}

TEST_CASE("grouped-query attention passes the gradient check (input and shared k/v weights)") {
  ParameterStore<double> store;
  const SelfAttention<double> attention(store, "attn.", 16, 4, /*fused=*/false, /*bias=*/false,
                                        /*rotary=*/true, 10000.0, /*kv_heads=*/2);
  store.finalize();
  Rng rng(6);
  for (double& v : store.values()) v = 0.3 * rng.normal();
  auto x = parameter(testing::random_normal<double>({1, 5, 16}, rng));
  SequenceLayout<Cpu> layout;
  layout.positions = Tensor<int32_t>::from(Shape{5}, std::vector<int32_t>{0, 1, 2, 3, 4});
  TLCR_CHECK_GRADIENTS([&] { return attention(x, layout); },
                       {x, store.get("attn.k_proj.weight"), store.get("attn.v_proj.weight")});
}

TEST_CASE("a GQA model saves as num_key_value_heads and loads back with the same logits") {
  const fs::path dir = fresh_dir("gqa");
  Llama<float> model(small_gqa_config(), {}, 7);
  perturb(model, 8);
  save_model(dir, model);
  CHECK(read_json_file(dir / "config.json")["num_key_value_heads"] == 2);
  const Llama<float> loaded = load_model<float, LlamaArch>(dir);
  CHECK(loaded.config().key_value_heads() == 2);
  const std::vector<int32_t> ids{1, 2, 3, 27, 5};
  CHECK(testing::max_abs_diff(logits_of(loaded, ids), logits_of(model, ids)) == 0.0);
  fs::remove_all(dir);
}

TEST_CASE("sharded bf16 weights with inv_freq buffers load as Hugging Face writes them") {
  const fs::path dir = fresh_dir("sharded");
  Llama<float> model(small_gqa_config(), {}, 9);
  perturb(model, 10);
  save_model(dir, model);  // config.json
  fs::remove(dir / "model.safetensors");
  // Shard 1 in bf16 (the embedding), shard 2 in f32 with rotary buffers beside the weights.
  std::string bf16_bytes;
  const Tensor<float>& table = model.params().get("model.embed_tokens.weight").value();
  Tensor<float> rounded(table.shape());
  for (int64_t i = 0; i < table.numel(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, table.data() + i, 4);
    const uint16_t half = uint16_t((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);  // nearest even
    bf16_bytes.append(reinterpret_cast<const char*>(&half), 2);
    rounded.data()[i] = safetensors::bfloat16_to_float(half);
  }
  std::string header = "{\"model.embed_tokens.weight\": {\"dtype\": \"BF16\", \"shape\": [" +
                       std::to_string(table.dim(0)) + ", " + std::to_string(table.dim(1)) +
                       "], \"data_offsets\": [0, " + std::to_string(bf16_bytes.size()) + "]}}";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string shard1(8, '\0');
  for (int i = 0; i < 8; ++i) shard1[i] = char((uint64_t(header.size()) >> (8 * i)) & 0xFF);
  shard1 += header + bf16_bytes;
  std::ofstream(dir / "model-00001-of-00002.safetensors", std::ios::binary) << shard1;
  safetensors::NamedTensors<float> rest;
  nlohmann::json weight_map = {{"model.embed_tokens.weight", "model-00001-of-00002.safetensors"}};
  for (const auto& p : model.params().parameters()) {
    if (p.name == "model.embed_tokens.weight") continue;
    rest.emplace_back(p.name, p.var.value());
    weight_map[p.name] = "model-00002-of-00002.safetensors";
  }
  for (int layer = 0; layer < 2; ++layer) {
    const std::string name =
        "model.layers." + std::to_string(layer) + ".self_attn.rotary_emb.inv_freq";
    rest.emplace_back(name, Tensor<float>::full({2}, 0.5f));
    weight_map[name] = "model-00002-of-00002.safetensors";
  }
  safetensors::write(dir / "model-00002-of-00002.safetensors", rest);
  write_file_atomically(
      dir / "model.safetensors.index.json",
      nlohmann::json{{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}}.dump());

  const Llama<float> loaded = load_model<float, LlamaArch>(dir);
  model.params().get("model.embed_tokens.weight").value().copy_from(rounded);
  const std::vector<int32_t> ids{4, 8, 15, 16, 23};
  CHECK(testing::max_abs_diff(logits_of(loaded, ids), logits_of(model, ids)) == 0.0);

  // An index that points outside the directory, or at a shard without the tensor, is refused.
  weight_map["model.norm.weight"] = "../elsewhere.safetensors";
  write_file_atomically(dir / "model.safetensors.index.json",
                        nlohmann::json{{"weight_map", weight_map}}.dump());
  CHECK_THROWS_WITH_AS((load_model<float, LlamaArch>(dir)),
                       doctest::Contains("weight_map['model.norm.weight']: expected a file name"),
                       Error);
  weight_map["model.norm.weight"] = "model-00001-of-00002.safetensors";
  write_file_atomically(dir / "model.safetensors.index.json",
                        nlohmann::json{{"weight_map", weight_map}}.dump());
  CHECK_THROWS_WITH_AS((load_model<float, LlamaArch>(dir)),
                       doctest::Contains("puts 'model.norm.weight' in model-00001-of-00002"),
                       Error);
  fs::remove_all(dir);
}

TEST_CASE("Llama config fields that would change the model are refused, by name") {
  const nlohmann::json base = to_json(small_gqa_config());
  const auto error_of = [&](const char* key, const nlohmann::json& value) -> std::string {
    nlohmann::json j = base;
    j[key] = value;
    try {
      config_from_json(j, "config.json");
    } catch (const Error& error) {
      return error.what();
    }
    return "(no error)";
  };
  CHECK(config_from_json(base).kv_heads == 2);
  CHECK(error_of("num_key_value_heads", 3) ==
        "config.json: field 'num_key_value_heads' is 3; expected a divisor of "
        "num_attention_heads (4)");
  CHECK(error_of("head_dim", 8).starts_with("config.json: field 'head_dim' is 8"));
  CHECK(error_of("attention_bias", true) ==
        "config.json: field 'attention_bias' is true; not supported");
  CHECK(error_of("rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}})
            .find("scaled rotary positions are not supported") != std::string::npos);
  CHECK(error_of("hidden_act", "gelu") ==
        "config.json: field 'hidden_act': expected silu, found gelu");
  CHECK(error_of("rope_scaling", nullptr) == "(no error)");
  TransformerConfig gpt2 = TransformerConfig::gpt2(10, 8, 1, 4, 16);
  gpt2.kv_heads = 2;
  CHECK_THROWS_WITH_AS(gpt2.validate(), doctest::Contains("needs the Llama architecture"), Error);
}
