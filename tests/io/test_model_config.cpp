// Tests for io/model_config.hpp: TransformerConfig ↔ Hugging Face config.json, both presets, and
// errors that name the file and field.
#include "support/testing.hpp"

using namespace tlcr;

TEST_CASE("config.json round trip for GPT-2 and Llama configs") {
  for (const TransformerConfig& config :
       {TransformerConfig::gpt2(50, 32, 3, 2, 16), TransformerConfig::llama(40, 64, 2, 4, 32)}) {
    const nlohmann::json j = to_json(config);
    const TransformerConfig back = config_from_json(j);
    CHECK(to_json(back) == j);
    CHECK(back.architecture == config.architecture);
    CHECK(back.width == config.width);
    CHECK(back.layers == config.layers);
    CHECK(back.tied_embeddings == config.tied_embeddings);
  }
  CHECK(to_json(TransformerConfig::gpt2(50, 32, 3, 2, 16))["model_type"] == "gpt2");
}

TEST_CASE("config.json errors name the file and field") {
  nlohmann::json j = to_json(TransformerConfig::gpt2(50, 32, 3, 2, 16));
  j["model_type"] = "bert";
  CHECK_THROWS_WITH_AS(config_from_json(j, "m/config.json"),
                       doctest::Contains("m/config.json: field 'model_type'"), Error);
}
