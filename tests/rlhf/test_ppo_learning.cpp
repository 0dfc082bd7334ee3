// End-to-end PPO on a tiny GPT-2 (vocabulary 12, width 16): with the dense token reward "+1 for
// emitting token 5, −1 for token 7", a few dozen iterations make token 5 far more frequent and
// token 7 rarer, with the value head on the policy and with a separate critic.
#include "rlhf/test_ppo_support.hpp"

using namespace tlcr;
using namespace tlcr::testing;

namespace {

// Share of `token` among the tokens of the responses sampled from `policy` (one per prompt).
double token_share(const Gpt2<float>& policy, const TokenSequences& prompts, int32_t token,
                   uint64_t seed) {
  GenerationOptions options;
  options.max_new_tokens = 6;
  options.eos_token = kTinyEos;
  Rng rng(seed);
  const GenerationResult result = generate(policy, prompts, options, rng);
  double hits = 0, total = 0;
  for (const auto& response : result.tokens)
    for (int32_t t : response) hits += t == token, ++total;
  return hits / total;
}

PpoConfig learning_settings() {
  PpoConfig c = small_ppo_preset();
  c.iterations = 16;
  c.batch_size = 16;
  c.minibatch_size = 8;
  c.epochs = 4;
  c.max_new_tokens = 6;
  c.lr = 1e-2;
  c.critic_lr = 1e-2;
  c.min_lr_ratio = 1.0;
  c.warmup_iterations = 0;
  c.kl_coef = 0.01;
  c.early_stop_kl = 0;
  c.sample_every = 0;
  c.seed = 3;
  return c;
}

}  // namespace

TEST_CASE("a dense +1 reward for token 5 raises its frequency within a few dozen iterations") {
  for (const bool separate_critic : {false, true}) {
    CAPTURE(separate_critic);
    Gpt2<float> policy = separate_critic ? tiny_reference() : tiny_policy();
    const Gpt2<float> reference = tiny_reference();
    Gpt2<float> critic = tiny_critic();
    const TokenSequences prompts = tiny_prompts(64, 7);
    const TokenSequences held_out = tiny_prompts(64, 8);
    const double before5 = token_share(policy, held_out, 5, 1),
                 before7 = token_share(policy, held_out, 7, 1);
    const TokenFiveReward reward;
    const PpoReport report = train_ppo<float, Gpt2Arch>(
        {policy, reference, separate_critic ? &critic : nullptr}, reward, prompts,
        learning_settings(), {.progress = false, .print_samples = false});
    const double after5 = token_share(policy, held_out, 5, 1),
                 after7 = token_share(policy, held_out, 7, 1);
    INFO("token 5: " << before5 << " → " << after5 << ", token 7: " << before7 << " → " << after7);
    INFO("last metrics: " << report.last_metrics.dump());
    CHECK(before5 < 0.2);
    CHECK(after5 > 3 * before5);
    CHECK(after5 > 0.4);
    CHECK(after7 < before7);
    CHECK(report.last_metrics["objective/scores"].get<double>() > 1.0);
  }
}
