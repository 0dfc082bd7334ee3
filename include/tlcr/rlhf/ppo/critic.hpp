// tlcr/rlhf/ppo/critic.hpp — a separate PPO critic: a trained trunk with a fresh value head.
//
// The official TLCR runs start the critic from the discriminator's trunk (a sequence reward model's
// or the SFT model's trunk works too). make_critic builds the model described by <dir>/config.json
// with only a value head (HeadConfig{lm = false, value = true}), copies every trunk parameter from
// <dir>/model.safetensors, and ignores the heads stored there (LM, classifier, score, value): the
// value head stays freshly initialised from `seed`. A trunk parameter missing from the file is an
// error.
// Not here: the policy's own value head (load_model with HeadConfig{lm, value}), training
// (trainer.hpp).
#pragma once

#include <filesystem>
#include <string>

#include "tlcr/io/model_dir.hpp"

namespace tlcr {

// On a device the trunk is assembled in a host copy of the flat parameter buffer (one download for
// the fresh head, one upload back).
template <class T, class Arch, class D = Cpu>
Transformer<T, Arch, D> make_critic(const std::filesystem::path& dir, uint64_t seed = 0) {
  const TransformerConfig config = read_model_config(dir).first;
  check_architecture<Arch>(config, (dir / "config.json").string());
  Transformer<T, Arch, D> critic(config, HeadConfig{.lm = false, .value = true}, seed);
  const SafetensorsFile<T> file = safetensors::read<T>(dir / "model.safetensors");
  Tensor<T> flat = critic.params().values().to_host();  // Cpu: the live buffer
  for (const auto& p : critic.params().parameters()) {
    if (p.name.starts_with("v_head.")) continue;  // the fresh head
    const std::string name = file.contains(p.name) ? p.name : "transformer." + p.name;
    TLCR_CHECK(file.contains(name), "make_critic: trunk parameter '", p.name, "' ", p.shape.str(),
               " is missing from ", dir.string(), "/model.safetensors");
    flat.slice(p.offset, p.offset + p.numel())
        .reshape(p.shape)
        .copy_from(file.tensor(name, p.shape));
  }
  if constexpr (!std::same_as<D, Cpu>) critic.params().values().copy_from(to_device<D>(flat));
  return critic;
}

}  // namespace tlcr
