// tlcr/io/model_dir.hpp — a model as a Hugging Face-style directory:
//   config.json        architecture and sizes (GPT2Config / LlamaConfig keys) + "tlcr_heads"
//   model.safetensors  every parameter, named as Hugging Face names them
// A Hugging Face GPT-2 directory loads as it is: its Conv1D weights are (in, out), which is the
// layout tlcr's GPT-2 uses, so no transposition is needed; names prefixed "transformer." are
// accepted, and the causal-mask buffers some checkpoints carry ("attn.bias", "attn.masked_bias")
// and a tied "lm_head.weight" are skipped. Files are written atomically; save_model can write the
// tokenizer.json beside them, so a directory holds everything a later command needs.
//
// The architecture is chosen twice: at compile time (the Arch of Transformer<T, Arch>) and in
// config.json. check_architecture (models/arch.hpp) is the one place they are compared; with_architecture and
// with_model_dir are the one place a run-time config.json picks the compile-time Arch.
// Not here: the tokenizer format (text/tokenizer_json.hpp), training state (train/checkpoint.hpp).
#pragma once

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>

#include "tlcr/io/atomic_file.hpp"
#include "tlcr/io/model_config.hpp"
#include "tlcr/io/safetensors.hpp"
#include "tlcr/io/tokenizer_file.hpp"
#include "tlcr/models/transformer.hpp"
#include "tlcr/text/json_describe.hpp"

namespace tlcr {

inline nlohmann::json heads_to_json(const HeadConfig& h) {
  return {{"lm", h.lm},
          {"value", h.value},
          {"token_classes", h.token_classes},
          {"sequence_score", h.sequence_score}};
}
// `where` names the field in errors, e.g. "<dir>/config.json: field 'tlcr_heads'".
inline HeadConfig heads_from_json(const nlohmann::json& j,
                                  const std::string& where = "field 'tlcr_heads'") {
  TLCR_CHECK(j.is_object(), where, ": expected an object, found ", describe_json(j));
  auto flag = [&](const char* key, bool fallback) {
    if (!j.contains(key)) return fallback;
    TLCR_CHECK(j[key].is_boolean(), where, ": '", key, "': expected true or false, found ",
               describe_json(j[key]));
    return j[key].get<bool>();
  };
  HeadConfig h;
  h.lm = flag("lm", true);
  h.value = flag("value", false);
  h.sequence_score = flag("sequence_score", false);
  if (j.contains("token_classes")) {
    const nlohmann::json& classes = j["token_classes"];
    TLCR_CHECK(classes.is_number_integer() && classes.get<int64_t>() >= 0, where,
               ": 'token_classes': expected a non-negative integer, found ",
               describe_json(classes));
    h.token_classes = classes.get<int64_t>();
  }
  return h;
}

// Reads and parses <dir>/config.json, naming the file in every error.
inline nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  TLCR_CHECK(in.good(), "cannot open '", path.string(), "'");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {  // malformed, or a number such as 1e999
    detail::fail(path.string(), ": invalid JSON: ", e.what());
  }
}

// Writes config.json and model.safetensors into `dir` (created if needed). A device model's weights
// come to the host as one download of the flat parameter buffer.
template <class T, class Arch, class D>
void save_model(const std::filesystem::path& dir, const Transformer<T, Arch, D>& model) {
  nlohmann::json config = to_json(model.config());
  config["tlcr_heads"] = heads_to_json(model.heads());
  const Tensor<T> flat = model.params().values().to_host();  // Cpu: the buffer itself
  safetensors::NamedTensors<float> tensors;
  for (const auto& p : model.params().parameters()) {
    Tensor<float> value(p.shape);
    const T* source = flat.data() + p.offset;
    for (int64_t i = 0; i < value.numel(); ++i) value.data()[i] = static_cast<float>(source[i]);
    tensors.emplace_back(p.name, std::move(value));
  }
  safetensors::write(dir / "model.safetensors", tensors, {{"format", "pt"}});
  write_file_atomically(dir / "config.json", config.dump(2) + "\n");
}

// The same, plus <dir>/tokenizer.json: a directory later commands open without --tokenizer.
template <class T, class Arch, class D>
void save_model(const std::filesystem::path& dir, const Transformer<T, Arch, D>& model,
                const BpeTokenizer& tokenizer) {
  save_model(dir, model);
  save_tokenizer(tokenizer, dir / "tokenizer.json");
}

// The config and heads stored in a model directory.
inline std::pair<TransformerConfig, HeadConfig> read_model_config(
    const std::filesystem::path& dir) {
  const auto path = dir / "config.json";
  const nlohmann::json j = read_json_file(path);
  const HeadConfig heads =
      j.contains("tlcr_heads")
          ? heads_from_json(j["tlcr_heads"], path.string() + ": field 'tlcr_heads'")
          : HeadConfig{};
  return {config_from_json(j, path.string()), heads};
}

struct LoadOptions {
  // Parameters the file lacks keep their fresh initialisation instead of failing: used to put a
  // new head (value, classifier, score) on a trained trunk.
  bool allow_missing_heads = false;
};

// The tensors of a model directory: model.safetensors, or the shards that
// model.safetensors.index.json lists ({"weight_map": {tensor name: shard file}}), as one set.
// F16 / BF16 / F64 tensors are converted to T on reading (safetensors.hpp).
template <class T>
SafetensorsFile<T> read_model_tensors(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (fs::exists(dir / "model.safetensors") || !fs::exists(dir / "model.safetensors.index.json"))
    return safetensors::read<T>(dir / "model.safetensors");
  const fs::path index_path = dir / "model.safetensors.index.json";
  const std::string where = index_path.string();
  const nlohmann::json index = read_json_file(index_path);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    detail::fail(where, ": expected an object with a 'weight_map' object {tensor: shard file}");
  std::map<std::string, std::vector<std::string>> names_by_shard;
  for (const auto& item : index["weight_map"].items()) {
    const std::string& name = item.key();
    const nlohmann::json& shard = item.value();
    const std::string file = shard.is_string() ? shard.get<std::string>() : std::string();
    // A shard is a file of this directory: no path may lead elsewhere.
    if (file.empty() || file.find('/') != std::string::npos ||
        file.find('\\') != std::string::npos || file == "." || file == "..")
      detail::fail(where, ": weight_map['", name, "']: expected a file name in ", dir.string(),
                   ", found ", describe_json(shard));
    names_by_shard[file].push_back(name);
  }
  SafetensorsFile<T> all;
  all.path = index_path;
  for (const auto& [shard, names] : names_by_shard) {
    SafetensorsFile<T> file = safetensors::read<T>(dir / shard);
    for (const std::string& name : names)
      if (!file.contains(name))
        detail::fail(where, ": weight_map puts '", name, "' in ", shard,
                     ", which does not hold it");
    for (auto& [name, stored] : file.tensors)
      if (!all.tensors.emplace(name, std::move(stored)).second)
        detail::fail(where, ": tensor '", name, "' is stored in more than one shard");
  }
  return all;
}

// Copies the tensors of the model directory (read_model_tensors) into `model`, by name, checking
// every shape. Buffers that are not parameters (attention masks, rotary inv_freq) are ignored. On a
// device the weights are assembled in a host copy of the flat parameter buffer and go up in one
// upload (after one download when missing heads keep their initialisation).
template <class T, class Arch, class D>
void load_weights(Transformer<T, Arch, D>& model, const std::filesystem::path& dir,
                  const LoadOptions& options = {}) {
  const SafetensorsFile<T> file = read_model_tensors<T>(dir);
  // Cpu: the live buffer (to_host aliases it), so the copies below land in the model directly.
  Tensor<T> flat;
  if (std::same_as<D, Cpu> || options.allow_missing_heads)
    flat = model.params().values().to_host();
  else
    flat = Tensor<T>(Shape{model.params().numel()});
  auto stored_name = [&](const std::string& name) -> std::string {
    if (file.contains(name)) return name;
    if (file.contains("transformer." + name)) return "transformer." + name;
    return "";
  };
  static const std::set<std::string> head_names{"v_head.weight", "v_head.bias", "score.weight"};
  std::set<std::string> used;
  for (const auto& p : model.params().parameters()) {
    const std::string name = stored_name(p.name);
    if (name.empty()) {
      if (options.allow_missing_heads && head_names.count(p.name)) continue;
      detail::fail("loading ", dir.string(), ": parameter '", p.name, "' ", p.shape.str(),
                   " is missing from model.safetensors");
    }
    const Tensor<T>& stored = file.tensor(name, p.shape);
    // A NaN or infinite weight would surface only far downstream, as NaN log-probs and rewards.
    const T* values = stored.data();
    for (int64_t i = 0; i < stored.numel(); ++i)
      if (!std::isfinite(values[i]))
        detail::fail("loading ", dir.string(), ": tensor '", name, "' ", p.shape.str(), " holds ",
                     values[i], " at flat index ", i, "; weights must be finite");
    flat.slice(p.offset, p.offset + p.numel()).reshape(p.shape).copy_from(stored);
    used.insert(name);
  }
  for (const std::string& name : file.names()) {
    const bool skippable =
        name.ends_with("attn.bias") || name.ends_with("attn.masked_bias") ||
        name.ends_with("rotary_emb.inv_freq") ||
        (name == "lm_head.weight" && (model.config().tied_embeddings || !model.heads().lm));
    if (!used.count(name) && !skippable)
      detail::fail("loading ", dir.string(), ": model.safetensors holds '", name,
                   "', which this model has no parameter for");
  }
  if constexpr (!std::same_as<D, Cpu>) model.params().values().copy_from(to_device<D>(flat));
}

// Builds the model described by <dir>/config.json and loads its weights. `heads` overrides the
// stored head set (missing heads are then freshly initialised from `seed`).
template <class T, class Arch, class D = Cpu>
Transformer<T, Arch, D> load_model(const std::filesystem::path& dir,
                                   std::optional<HeadConfig> heads = {}, uint64_t seed = 0) {
  auto [config, stored_heads] = read_model_config(dir);
  check_architecture<Arch>(config, (dir / "config.json").string());
  Transformer<T, Arch, D> model(config, heads.value_or(stored_heads), seed);
  load_weights(model, dir, {.allow_missing_heads = heads.has_value()});
  return model;
}

// Calls f(Gpt2Arch{}) or f(LlamaArch{}) as <dir>/config.json says, and returns what f returns.
template <class F>
decltype(auto) with_architecture(const std::filesystem::path& dir, F&& f) {
  if (read_model_config(dir).first.architecture == Architecture::Llama) return f(LlamaArch{});
  return f(Gpt2Arch{});
}

// Loads the model stored in `dir`, built as GPT-2 or Llama from its config.json, and calls
// body(model) with it (a Transformer<T, Arch, D>&). `heads` as in load_model.
template <class T = float, class D = Cpu, class Body>
decltype(auto) with_model_dir(const std::filesystem::path& dir, std::optional<HeadConfig> heads,
                              Body&& body) {
  return with_architecture(dir, [&](auto arch) {
    auto model = load_model<T, decltype(arch), D>(dir, heads);
    return body(model);
  });
}

}  // namespace tlcr
