// tlcr/train/checkpoint.hpp — everything needed to continue a run exactly where it stopped.
//
// A checkpoint is a directory:
//   config.json, model.safetensors   the model (io/model_dir.hpp), loadable on its own
//   optimizer.safetensors            AdamW moments m, v (metadata: step)
//   trainer_state.json               step counters, batcher and RNG states, anything else the loop keeps
// It is written to "<dir>.tmp" and then swapped in (dir → "<dir>.old", tmp → dir), so a crash
// while saving leaves the previous checkpoint intact ("last good checkpoint survives"); a crash
// between the two renames leaves only "<dir>.old", which recover_directory puts back.
// Not here: what the trainer stores in trainer_state.json (train/lm_trainer.hpp, rlhf/ppo.hpp).
#pragma once

#include <array>
#include <filesystem>
#include <limits>
#include <string_view>

#include "tlcr/io/model_dir.hpp"
#include "tlcr/optim/adamw.hpp"
#include "tlcr/train/batches.hpp"

namespace tlcr {

// Checked readers of trainer_state.json values. nlohmann-json's get<int64_t>() of a number
// outside int64_t's range (parsed as a double) is undefined behaviour, so every integer is checked
// first; errors name the field.
inline int64_t state_integer_value(const nlohmann::json& value, std::string_view field) {
  if (!value.is_number_integer() ||
      (value.is_number_unsigned() &&
       value.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())))
    detail::fail("field '", field, "': expected an integer, found ", describe_json(value));
  return value.get<int64_t>();
}
inline int64_t state_integer(const nlohmann::json& object, const char* key) {
  return state_integer_value(object.at(key), key);
}
inline double state_number(const nlohmann::json& object, const char* key) {
  const nlohmann::json& value = object.at(key);
  if (!value.is_number())
    detail::fail("field '", key, "': expected a number, found ", describe_json(value));
  return value.get<double>();
}
// An Rng state: six unsigned 64-bit words.
inline std::array<uint64_t, 6> state_rng(const nlohmann::json& object, const char* key) {
  const nlohmann::json& value = object.at(key);
  if (!value.is_array() || value.size() != 6)
    detail::fail("field '", key, "': expected 6 unsigned integers, found ", describe_json(value));
  std::array<uint64_t, 6> words{};
  for (std::size_t i = 0; i < 6; ++i) {
    if (!value[i].is_number_unsigned())
      detail::fail("field '", key, "': expected 6 unsigned integers, found ", describe_json(value));
    words[i] = value[i].get<uint64_t>();
  }
  return words;
}

inline nlohmann::json to_json(const BatcherState& s) {
  return {{"rng", s.rng}, {"epoch", s.epoch}, {"cursor", s.cursor}, {"order", s.order}};
}
inline BatcherState batcher_state_from_json(const nlohmann::json& j) {
  if (!j.is_object()) detail::fail("batcher state: expected an object, found ", describe_json(j));
  BatcherState s;
  s.rng = state_rng(j, "rng");
  s.epoch = state_integer(j, "epoch");
  const int64_t cursor = state_integer(j, "cursor");
  if (cursor < 0) detail::fail("field 'cursor': expected a non-negative integer, found ", cursor);
  s.cursor = std::size_t(cursor);
  const nlohmann::json& order = j.at("order");
  if (!order.is_array())
    detail::fail("field 'order': expected an array, found ", describe_json(order));
  for (const nlohmann::json& index : order) s.order.push_back(state_integer_value(index, "order"));
  return s;
}

// Fails naming the first of `settings` that the run checkpointed in `dir` had set differently
// (`saved`): a resumed run must be the run that stopped.
inline void check_resumed_settings(const nlohmann::json& saved, const nlohmann::json& settings,
                                   const std::filesystem::path& dir) {
  for (const auto& [key, value] : settings.items())
    if (!saved.contains(key) || saved[key] != value)
      detail::fail("resuming from '", dir.string(), "': setting '", key, "' was ",
                   saved.contains(key) ? describe_json(saved[key]) : std::string("(missing)"),
                   ", this run has ", describe_json(value));
  // A setting only some runs record (dropout) must not be dropped on resume either.
  for (const auto& [key, value] : saved.items())
    if (!settings.contains(key))
      detail::fail("resuming from '", dir.string(), "': setting '", key, "' was ",
                   describe_json(value), ", this run has none");
}

// After a crash between replace_directory's two renames `dir` is gone and "<dir>.old" holds the
// last complete checkpoint: it is renamed back. A half-written "<dir>.tmp" is left for
// replace_directory to clear.
inline void recover_directory(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  const fs::path old = dir.string() + ".old";
  if (!fs::exists(dir) && fs::is_directory(old)) fs::rename(old, dir);
}

// Replaces `dir` by a freshly written one: write(tmp) fills "<dir>.tmp", which then takes dir's place.
template <class Writer>
void replace_directory(const std::filesystem::path& dir, Writer&& write) {
  namespace fs = std::filesystem;
  const fs::path tmp = dir.string() + ".tmp", old = dir.string() + ".old";
  recover_directory(dir);
  fs::remove_all(tmp);
  write(tmp);  // its files are synced to disk as they are written (write_file_atomically)
  sync_to_disk(tmp);
  fs::remove_all(old);
  if (fs::exists(dir)) fs::rename(dir, old);
  fs::rename(tmp, dir);
  sync_to_disk(dir.has_parent_path() ? dir.parent_path() : fs::path("."));
  fs::remove_all(old);
}

// A device run's optimizer moments come down as one download each (m, v).
template <class T, class Arch, class D>
void save_checkpoint(const std::filesystem::path& dir, const Transformer<T, Arch, D>& model,
                     const AdamW<T, D>& optimizer, const nlohmann::json& trainer_state) {
  replace_directory(dir, [&](const std::filesystem::path& tmp) {
    save_model(tmp, model);
    const AdamWState<T, D> state = optimizer.state();
    safetensors::write(
        tmp / "optimizer.safetensors",
        safetensors::NamedTensors<T>{{"m", state.m.to_host()}, {"v", state.v.to_host()}},
        {{"step", std::to_string(state.step)}});
    write_file_atomically(tmp / "trainer_state.json", trainer_state.dump(1) + "\n");
  });
}

// Restores model weights and optimizer moments (one upload each on a device); returns
// trainer_state.json.
template <class T, class Arch, class D>
nlohmann::json load_checkpoint(const std::filesystem::path& dir, Transformer<T, Arch, D>& model,
                               AdamW<T, D>& optimizer) {
  recover_directory(dir);
  load_weights(model, dir);
  const SafetensorsFile<T> file = safetensors::read<T>(dir / "optimizer.safetensors");
  const Shape flat{model.params().numel()};
  AdamWState<T, D> state;
  state.m = to_device<D>(file.tensor("m", flat).clone());
  state.v = to_device<D>(file.tensor("v", flat).clone());
  TLCR_CHECK(file.metadata.count("step"), dir.string(),
             "/optimizer.safetensors: metadata 'step' missing");
  state.step = std::stoll(file.metadata.at("step"));
  optimizer.load_state(state);
  return read_json_file(dir / "trainer_state.json");
}

}  // namespace tlcr
