// Fuzz target: a checkpoint's trainer_state.json as a resumed run reads it (train/checkpoint.hpp:
// batcher_state_from_json, check_resumed_settings; train/batches.hpp: the orders' set_state),
// against a run of 12 rows / 12 windows of 4 tokens. A state that is accepted must serve batches.
#include <tlcr/train/batches.hpp>
#include <tlcr/train/checkpoint.hpp>

#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tlcr;
  nlohmann::json state;
  try {
    state = nlohmann::json::parse(tlcr::fuzz::as_text(data, size));
  } catch (const nlohmann::json::exception&) {
    return 0;  // read_json_file reports these as tlcr::Error
  }
  // As the trainers do: a JSON type error becomes a tlcr::Error naming the file.
  const auto as_trainers_do = [](auto&& body) {
    tlcr::fuzz::expect_only_tlcr_errors([&] {
      try {
        body();
      } catch (const nlohmann::json::exception& error) {
        throw Error(error.what());
      }
    });
  };
  as_trainers_do([&] {
    const nlohmann::json settings = {{"lr", 0.001}, {"seed", 1}, {"steps", 10}};
    if (state.is_object() && state.contains("settings"))
      check_resumed_settings(state.at("settings"), settings, "checkpoint");
  });
  as_trainers_do([&] {  // SFT rows, reward-model examples, PPO prompts
    ShuffledOrder order(12, Rng(1), "order", "rows");
    order.set_state(batcher_state_from_json(state.at("batcher")));
    for (int i = 0; i < 30; ++i) FUZZ_REQUIRE(order.next() < 12);
  });
  as_trainers_do([&] {  // pretraining windows: starts are multiples of the window length
    std::vector<int32_t> stream(49);
    for (int i = 0; i < 49; ++i) stream[i] = i;
    LmBatcher windows(stream, 2, 4, 1);
    windows.set_state(batcher_state_from_json(state.at("batcher")));
    for (int i = 0; i < 10; ++i) {
      const TokenBatch batch = windows.next();
      for (const int32_t token : batch.inputs) FUZZ_REQUIRE(token >= 0 && token < 48);
    }
  });
  return 0;
}
