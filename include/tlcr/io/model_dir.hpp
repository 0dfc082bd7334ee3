// tlcr/io/model_dir.hpp — a model as a Hugging Face-style directory:
//   config.json        architecture and sizes (GPT2Config / LlamaConfig keys) + "tlcr_heads"
//   model.safetensors  every parameter, named as Hugging Face names them
// A Hugging Face GPT-2 directory loads as it is: its Conv1D weights are (in, out), which is the
// layout tlcr's GPT-2 uses, so no transposition is needed; names prefixed "transformer." are
// accepted, and the causal-mask buffers some checkpoints carry ("attn.bias", "attn.masked_bias")
// and a tied "lm_head.weight" are skipped. Files are written atomically.
// Not here: the tokenizer files (text/), training state (train/checkpoint.hpp).
#pragma once

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>

#include "tlcr/io/atomic_file.hpp"
#include "tlcr/io/safetensors.hpp"
#include "tlcr/models/transformer.hpp"

namespace tlcr {

inline nlohmann::json heads_to_json(const HeadConfig& h) {
  return {{"lm", h.lm}, {"value", h.value}, {"token_classes", h.token_classes},
          {"sequence_score", h.sequence_score}};
}
inline HeadConfig heads_from_json(const nlohmann::json& j) {
  HeadConfig h;
  h.lm = j.value("lm", true);
  h.value = j.value("value", false);
  h.token_classes = j.value("token_classes", int64_t{0});
  h.sequence_score = j.value("sequence_score", false);
  return h;
}

// Reads and parses <dir>/config.json, naming the file in every error.
inline nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  TLCR_CHECK(in.good(), "cannot open '", path.string(), "'");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    detail::fail(path.string(), ": invalid JSON: ", e.what());
  }
}

// Writes config.json and model.safetensors into `dir` (created if needed).
template <class T, class Arch>
void save_model(const std::filesystem::path& dir, const Transformer<T, Arch>& model) {
  nlohmann::json config = to_json(model.config());
  config["tlcr_heads"] = heads_to_json(model.heads());
  safetensors::NamedTensors<float> tensors;
  for (const auto& p : model.params().parameters()) {
    Tensor<float> value(p.shape);
    const Tensor<T>& source = p.var.value();
    for (int64_t i = 0; i < value.numel(); ++i) value.data()[i] = static_cast<float>(source.data()[i]);
    tensors.emplace_back(p.name, std::move(value));
  }
  safetensors::write(dir / "model.safetensors", tensors, {{"format", "pt"}});
  write_file_atomically(dir / "config.json", config.dump(2) + "\n");
}

// The config and heads stored in a model directory.
inline std::pair<TransformerConfig, HeadConfig> read_model_config(const std::filesystem::path& dir) {
  const auto path = dir / "config.json";
  const nlohmann::json j = read_json_file(path);
  const HeadConfig heads = j.contains("tlcr_heads") ? heads_from_json(j["tlcr_heads"]) : HeadConfig{};
  return {config_from_json(j, path.string()), heads};
}

struct LoadOptions {
  // Parameters the file lacks keep their fresh initialisation instead of failing: used to put a
  // new head (value, classifier, score) on a trained trunk.
  bool allow_missing_heads = false;
};

// Copies the tensors of <dir>/model.safetensors into `model`, by name, checking every shape.
template <class T, class Arch>
void load_weights(Transformer<T, Arch>& model, const std::filesystem::path& dir,
                  const LoadOptions& options = {}) {
  const SafetensorsFile<T> file = safetensors::read<T>(dir / "model.safetensors");
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
    Var<T>(p.var).value().copy_from(file.tensor(name, p.shape));  // the handle is const, the storage is not
    used.insert(name);
  }
  for (const std::string& name : file.names()) {
    const bool skippable = name.ends_with("attn.bias") || name.ends_with("attn.masked_bias") ||
                           (name == "lm_head.weight" && (model.config().tied_embeddings || !model.heads().lm));
    if (!used.count(name) && !skippable)
      detail::fail("loading ", dir.string(), ": model.safetensors holds '", name,
                   "', which this model has no parameter for");
  }
}

// Builds the model described by <dir>/config.json and loads its weights. `heads` overrides the
// stored head set (missing heads are then freshly initialised from `seed`).
template <class T, class Arch>
Transformer<T, Arch> load_model(const std::filesystem::path& dir, std::optional<HeadConfig> heads = {},
                                uint64_t seed = 0) {
  auto [config, stored_heads] = read_model_config(dir);
  const bool matches = (config.architecture == Architecture::Gpt2) == std::is_same_v<Arch, Gpt2Arch>;
  TLCR_CHECK(matches, dir.string(), "/config.json describes a ",
             config.architecture == Architecture::Gpt2 ? "GPT-2" : "Llama", " model");
  Transformer<T, Arch> model(config, heads.value_or(stored_heads), seed);
  load_weights(model, dir, {.allow_missing_heads = heads.has_value()});
  return model;
}

}  // namespace tlcr
