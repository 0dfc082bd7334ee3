// Tests for io/model_dir.hpp: a model written as a Hugging Face-style directory loads back with
// identical logits; a directory laid out the way Hugging Face saves GPT-2 ("transformer." prefixes,
// causal-mask buffers, a tied lm_head.weight) loads as it is; missing or foreign tensors are errors.
#include "support/testing.hpp"

#include <tlcr/io/model_dir.hpp>

using namespace tlcr;
namespace fs = std::filesystem;

namespace {
fs::path fresh_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("tlcr_model_dir_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}
doctest::Contains contains(const std::string& text) {
  return doctest::Contains(text.c_str());
}
Tensor<float> logits_of(const Gpt2<float>& model, const std::vector<int32_t>& ids) {
  NoGrad no_grad;
  return model.lm_logits(model.hidden({1, static_cast<int64_t>(ids.size()), ids, {}, {}})).value();
}
}  // namespace

TEST_CASE("save_model then load_model gives the same logits, config and heads") {
  const fs::path dir = fresh_dir("roundtrip");
  Gpt2<float> model(TransformerConfig::gpt2(23, 16, 2, 2, 8), {.lm = true, .value = true}, 5);
  Rng rng(1);
  for (float& v : model.params().values()) v += 0.1f * float(rng.normal());
  save_model(dir, model);
  CHECK(fs::exists(dir / "config.json"));
  const nlohmann::json config = read_json_file(dir / "config.json");
  CHECK(config["model_type"] == "gpt2");
  CHECK(config["n_embd"] == 8);
  CHECK(config["tlcr_heads"]["value"] == true);

  Gpt2<float> loaded = load_model<float, Gpt2Arch>(dir);
  CHECK(loaded.heads().value);
  const std::vector<int32_t> ids{1, 5, 7, 22, 0};
  CHECK(testing::max_abs_diff(logits_of(loaded, ids), logits_of(model, ids)) == 0.0);
  CHECK_THROWS_WITH_AS((load_model<float, LlamaArch>(dir)),
                       doctest::Contains("describes a GPT-2 model"), Error);
  fs::remove_all(dir);
}

TEST_CASE("a Hugging Face GPT-2 layout loads as it is; strays and gaps are reported") {
  const fs::path dir = fresh_dir("hf");
  Gpt2<float> model(TransformerConfig::gpt2(19, 8, 1, 2, 8), {}, 9);
  Rng rng(2);
  for (float& v : model.params().values()) v += 0.1f * float(rng.normal());
  // Write the tensors the way transformers' GPT2LMHeadModel names them.
  safetensors::NamedTensors<float> tensors;
  for (const auto& p : model.params().parameters())
    tensors.emplace_back("transformer." + p.name, p.var.value());
  tensors.emplace_back("transformer.h.0.attn.bias", Tensor<float>::full({1, 1, 8, 8}, 1.0f));
  tensors.emplace_back("lm_head.weight", model.params().get("wte.weight").value());
  fs::create_directories(dir);
  safetensors::write(dir / "model.safetensors", tensors);
  write_file_atomically(dir / "config.json", to_json(model.config()).dump());
  Gpt2<float> loaded = load_model<float, Gpt2Arch>(dir);
  const std::vector<int32_t> ids{3, 4, 18};
  CHECK(testing::max_abs_diff(logits_of(loaded, ids), logits_of(model, ids)) == 0.0);

  tensors.emplace_back("transformer.h.0.unexpected", Tensor<float>({2}));
  safetensors::write(dir / "model.safetensors", tensors);
  CHECK_THROWS_WITH_AS((load_model<float, Gpt2Arch>(dir)),
                       doctest::Contains("holds 'transformer.h.0.unexpected'"), Error);
  tensors.erase(tensors.begin());  // drop wte
  tensors.pop_back();
  safetensors::write(dir / "model.safetensors", tensors);
  CHECK_THROWS_WITH_AS((load_model<float, Gpt2Arch>(dir)),
                       doctest::Contains("parameter 'wte.weight' [19, 8] is missing"), Error);
  fs::remove_all(dir);
}

TEST_CASE("a new head on a trained trunk: missing head tensors keep their initialisation") {
  const fs::path dir = fresh_dir("heads");
  Gpt2<float> sft(TransformerConfig::gpt2(11, 8, 1, 2, 8), {}, 3);
  save_model(dir, sft);
  Gpt2<float> critic = load_model<float, Gpt2Arch>(dir, HeadConfig{.lm = true, .value = true}, 4);
  CHECK(critic.heads().value);
  CHECK(testing::max_abs_diff(critic.params().get("wte.weight").value(),
                              sft.params().get("wte.weight").value()) == 0.0);
  fs::remove_all(dir);
}

TEST_CASE("a weight that is NaN or infinite is refused on load, naming the tensor") {
  const fs::path dir = fresh_dir("non_finite");
  Gpt2<float> model(TransformerConfig::gpt2(23, 16, 1, 2, 8), {}, 5);
  const auto& wte = model.params().parameters().front();
  for (float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    model.params().values()[wte.offset + 3] = bad;
    save_model(dir, model);
    CHECK_THROWS_WITH_AS((load_model<float, Gpt2Arch>(dir)),
                         contains("tensor '" + wte.name + "' " + wte.shape.str() + " holds " +
                                  (std::isnan(bad) ? "nan" : "inf") + " at flat index 3"),
                         Error);
  }
  fs::remove_all(dir);
}

TEST_CASE("config.json fields of the wrong type are errors naming the file and field") {
  const fs::path dir = fresh_dir("wrong_types");
  Gpt2<float> model(TransformerConfig::gpt2(23, 16, 1, 2, 8), {}, 5);
  save_model(dir, model);
  const nlohmann::json good = read_json_file(dir / "config.json");
  auto load_with = [&](const char* key, const nlohmann::json& value) {
    nlohmann::json config = good;
    config[key] = value;
    std::ofstream(dir / "config.json") << config.dump();
    return load_model<float, Gpt2Arch>(dir);
  };
  const std::string file = (dir / "config.json").string();
  CHECK_THROWS_WITH_AS(load_with("n_embd", 8.5),
                       contains(file + ": field 'n_embd': expected an integer, found 8.5"), Error);
  CHECK_THROWS_WITH_AS(
      load_with("tie_word_embeddings", "yes"),
      contains("field 'tie_word_embeddings': expected true or false, found \"yes\""), Error);
  CHECK_THROWS_WITH_AS(load_with("layer_norm_epsilon", nlohmann::json::array()),
                       contains("field 'layer_norm_epsilon': expected a number, found []"), Error);
  CHECK_THROWS_WITH_AS(
      load_with("tlcr_heads", nlohmann::json{{"value", 1}}),
      contains(file + ": field 'tlcr_heads': 'value': expected true or false, found 1"), Error);
  CHECK_THROWS_WITH_AS(load_with("tlcr_heads", nlohmann::json{{"token_classes", -2}}),
                       contains("'token_classes': expected a non-negative integer, found -2"),
                       Error);
  // A number nlohmann-json cannot hold is an error about the file, not an escaped library exception.
  std::ofstream(dir / "config.json") << R"({"model_type": "gpt2", "n_embd": 1e999})";
  CHECK_THROWS_WITH_AS((load_model<float, Gpt2Arch>(dir)), contains(file + ": invalid JSON"),
                       Error);
  fs::remove_all(dir);
}
