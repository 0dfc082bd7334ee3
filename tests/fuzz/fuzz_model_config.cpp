// Fuzz target: a model directory's config.json (io/model_config.hpp, io/model_dir.hpp: the
// architecture, sizes, token ids and tlcr_heads), parsed and checked as read_model_config does.
#include <tlcr/io/model_config.hpp>
#include <tlcr/io/model_dir.hpp>

#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tlcr;
  tlcr::fuzz::expect_only_tlcr_errors([&] {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(tlcr::fuzz::as_text(data, size));
    } catch (const nlohmann::json::exception&) {
      return;  // read_json_file reports these as tlcr::Error
    }
    const HeadConfig heads =
        j.is_object() && j.contains("tlcr_heads") ? heads_from_json(j["tlcr_heads"]) : HeadConfig{};
    const TransformerConfig config = config_from_json(j, "config.json");
    // A config that passes validation describes a model whose sizes are all positive, and
    // writes back to a config that reads as the same one.
    FUZZ_REQUIRE(config.width > 0 && config.layers > 0 && config.heads > 0);
    const TransformerConfig again = config_from_json(to_json(config), "again.json");
    FUZZ_REQUIRE(again.width == config.width && again.layers == config.layers &&
                 again.vocab_size == config.vocab_size && again.heads == config.heads);
    (void)heads;
  });
  return 0;
}
