// Tests for rlhf/dpo.hpp and rlhf/dpo_reward.hpp: the DPO loss on hand-computed numbers and against
// an independent single-row forward, gradcheck of the loss in the policy's parameters and of the
// per-row sum, a policy equal to its reference (loss log 2, rewards exactly 0), a short run that
// learns a toy preference (accuracy above 0.9 on fresh pairs), bitwise resume, micro-batches equal
// to one batch in double, Cpu and SealedCpu alike with a fixed number of transfers per step, the
// policy directory round trip, and the implicit token reward: β·(log π − log π_ref) per token, 0
// past the first EOS, summing to the sequence reward, exactly 0 when the policy is the reference.
#include "support/testing.hpp"

#include <tlcr/rlhf/dpo.hpp>
#include <tlcr/rlhf/dpo_reward.hpp>
#include <tlcr/text/bpe_train.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

using namespace tlcr;

namespace {

// Token ids 0…9 are content; 10 is EOS and 11 padding.
constexpr int64_t kDpoVocab = 12;
const ResponseEnds kDpoEnds{.eos = 10, .pad = 11};

TransformerConfig dpo_tiny_config() {
  return TransformerConfig::gpt2(kDpoVocab, 32, 1, 2, 16);
}

std::vector<int32_t> dpo_random_tokens(Rng& rng, int64_t low, int64_t high, int32_t below = 10) {
  std::vector<int32_t> tokens(static_cast<std::size_t>(testing::random_size(rng, low, high)));
  for (int32_t& t : tokens) t = static_cast<int32_t>(rng.uniform_int(below));
  return tokens;
}

// Random pairs whose responses end with EOS, as tokenize_preferences writes them.
std::vector<TokenizedPair> dpo_random_pairs(Rng& rng, int64_t n) {
  std::vector<TokenizedPair> pairs(static_cast<std::size_t>(n));
  for (TokenizedPair& p : pairs) {
    p.prompt = dpo_random_tokens(rng, 1, 4);
    p.chosen = dpo_random_tokens(rng, 1, 6);
    p.rejected = dpo_random_tokens(rng, 1, 6);
    p.chosen.push_back(kDpoEnds.eos);
    p.rejected.push_back(kDpoEnds.eos);
  }
  return pairs;
}

// A toy preference: chosen responses use tokens 0…4, rejected ones 5…9.
std::vector<TokenizedPair> dpo_toy_preferences(Rng& rng, int64_t n) {
  std::vector<TokenizedPair> pairs = dpo_random_pairs(rng, n);
  for (TokenizedPair& p : pairs) {
    for (std::size_t i = 0; i + 1 < p.chosen.size(); ++i) p.chosen[i] %= 5;
    for (std::size_t i = 0; i + 1 < p.rejected.size(); ++i) p.rejected[i] = 5 + p.rejected[i] % 5;
  }
  return pairs;
}

// log π(a_t | x, a_<t) of each response token from one unpadded row's full forward, in double:
// independent of the batched, gathered path under test.
template <class T, class Arch>
std::vector<double> dpo_single_row_log_probs(const Transformer<T, Arch>& model,
                                             const std::vector<int32_t>& prompt,
                                             const std::vector<int32_t>& response) {
  NoGrad no_grad;
  std::vector<int32_t> ids = prompt;
  ids.insert(ids.end(), response.begin(), response.end());
  const int64_t time = static_cast<int64_t>(ids.size()), V = model.config().vocab_size;
  const Tensor<T> logits = model.lm_logits(model.hidden({1, time, ids, {}, {}})).value();
  std::vector<double> out;
  for (std::size_t t = 0; t < response.size(); ++t) {
    const int64_t at = static_cast<int64_t>(prompt.size() + t) - 1;
    double top = -INFINITY, total = 0;
    for (int64_t v = 0; v < V; ++v) top = std::max(top, double(logits.data()[at * V + v]));
    for (int64_t v = 0; v < V; ++v) total += std::exp(double(logits.data()[at * V + v]) - top);
    out.push_back(double(logits.data()[at * V + response[t]]) - top - std::log(total));
  }
  return out;
}

template <class T, class Arch>
double dpo_single_row_sequence_log_prob(const Transformer<T, Arch>& model,
                                        const std::vector<int32_t>& prompt,
                                        const std::vector<int32_t>& response) {
  double total = 0;
  for (double logp : dpo_single_row_log_probs(model, prompt, response)) total += logp;
  return total;
}

double dpo_softplus(double x) {
  return std::log1p(std::exp(x));
}

std::vector<nlohmann::json> dpo_read_records(const std::filesystem::path& path) {
  std::vector<nlohmann::json> records;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) records.push_back(nlohmann::json::parse(line));
  return records;
}

DpoTrainOptions dpo_quick_options() {
  DpoTrainOptions o;
  o.beta = 0.5;
  o.epochs = 3;
  o.batch_size = 3;  // 10 pairs: batches of 3, 3, 3, 1 per epoch
  o.lr = 3e-3;
  o.min_lr = 3e-4;
  o.warmup_steps = 3;
  o.log_every = 2;
  o.eval_every = 3;
  o.eval_batch_size = 4;
  o.seed = 7;
  o.progress = false;
  return o;
}

}  // namespace

TEST_CASE("DPO loss: hand-computed numbers and an independent single-row computation") {
  // β = 0.5; log π(y_c) = −2, log π_ref(y_c) = −2.5, log π(y_r) = −3, log π_ref(y_r) = −2:
  // r_c = 0.25, r_r = −0.5, loss = −log σ(0.75) = softplus(−0.75).
  const std::vector<double> policy = {-2.0, -3.0}, reference = {-2.5, -2.0};
  const DpoEval hand = dpo_statistics(policy, reference, 0.5);
  CHECK(hand.pairs == 1);
  CHECK(hand.loss == doctest::Approx(dpo_softplus(-0.75)).epsilon(1e-14));
  CHECK(hand.reward_chosen == doctest::Approx(0.25).epsilon(1e-14));
  CHECK(hand.reward_rejected == doctest::Approx(-0.5).epsilon(1e-14));
  CHECK(hand.margin == doctest::Approx(0.75).epsilon(1e-14));
  CHECK(hand.accuracy == 1.0);
  CHECK(hand.logps_chosen == -2.0);
  CHECK(hand.logps_rejected == -3.0);
  const auto chosen = constant(Tensor<double>::from({2}, {0.25, -1.0}));
  const auto rejected = constant(Tensor<double>::from({2}, {-0.5, 1.0}));
  CHECK(dpo_loss(chosen, rejected).value()[0] ==
        doctest::Approx((dpo_softplus(-0.75) + dpo_softplus(2.0)) / 2).epsilon(1e-14));

  // The batched loss of real models equals the formula on single-row sequence log-probs.
  Rng rng(71);
  const Gpt2<double> policy_model(dpo_tiny_config(), {}, 3),
      reference_model(dpo_tiny_config(), {}, 4);
  const std::vector<TokenizedPair> pairs = dpo_random_pairs(rng, 5);
  const double beta = 0.3;
  DpoLogProbs log_probs;
  const double loss =
      dpo_forward_loss(policy_model, reference_model, std::span<const TokenizedPair>(pairs),
                       kDpoEnds, beta, &log_probs)
          .value()[0];
  double expected = 0;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const TokenizedPair& p = pairs[i];
    const double pc = dpo_single_row_sequence_log_prob(policy_model, p.prompt, p.chosen);
    const double pr = dpo_single_row_sequence_log_prob(policy_model, p.prompt, p.rejected);
    const double rc = dpo_single_row_sequence_log_prob(reference_model, p.prompt, p.chosen);
    const double rr = dpo_single_row_sequence_log_prob(reference_model, p.prompt, p.rejected);
    CHECK(log_probs.policy[i] == doctest::Approx(pc).epsilon(1e-12));
    CHECK(log_probs.policy[pairs.size() + i] == doctest::Approx(pr).epsilon(1e-12));
    CHECK(log_probs.reference[i] == doctest::Approx(rc).epsilon(1e-12));
    CHECK(log_probs.reference[pairs.size() + i] == doctest::Approx(rr).epsilon(1e-12));
    expected += dpo_softplus(-beta * ((pc - rc) - (pr - rr)));
  }
  expected /= double(pairs.size());
  CHECK(loss == doctest::Approx(expected).epsilon(1e-12));
  CHECK(dpo_statistics(log_probs.policy, log_probs.reference, beta).loss ==
        doctest::Approx(expected).epsilon(1e-12));
}

TEST_CASE("DPO loss: gradcheck in the policy's parameters; the per-row sum's gradient") {
  const ThreadCountGuard one_thread(1);  // tiny models: threads only wait on a busy machine
  Rng rng(72);
  Gpt2<double> policy(TransformerConfig::gpt2(kDpoVocab, 16, 1, 2, 8), {}, 5);
  const Gpt2<double> reference(TransformerConfig::gpt2(kDpoVocab, 16, 1, 2, 8), {}, 6);
  for (double& v : policy.params().values()) v += 0.1 * rng.normal();  // generic biases and gains
  const std::vector<TokenizedPair> pairs = dpo_random_pairs(rng, 3);
  std::vector<Var<double>> inputs;
  std::vector<std::string> names;
  for (const auto& p : policy.params().parameters())
    inputs.push_back(p.var), names.push_back(p.name);
  auto loss = [&] {
    return dpo_forward_loss(policy, reference, std::span<const TokenizedPair>(pairs), kDpoEnds,
                            0.8);
  };
  TLCR_CHECK_GRADIENTS(loss, inputs, {.tolerance = 1e-5, .names = names});
  // The reference is a constant: backward leaves its gradients untouched (all 0).
  const Tensor<double> reference_grads = reference.params().grads();
  CHECK(testing::max_abs_diff(reference_grads, Tensor<double>(reference_grads.shape())) == 0.0);
  CHECK(testing::max_abs_diff(policy.params().grads(), Tensor<double>(reference_grads.shape())) >
        0);

  // sum_per_row alone, on rows of different lengths (a padded gather).
  const TokenSequences prompts = {{1, 2}, {3}, {4, 5, 6}};
  const TokenSequences responses = {{7, 10}, {1, 2, 3, 4, 10, 11}, {5}};
  const SequenceLogProbRows rows =
      make_sequence_log_prob_rows(prompts, responses, kDpoEnds, 16, "test rows");
  CHECK(rows.longest == 5);
  CHECK(rows.responses.token_count() == 8);  // 2 + 5 (up to EOS) + 1
  const DeviceSequenceRows<Cpu> up = upload_sequence_rows(policy, rows);
  auto per_token = parameter(testing::random_normal<double>({8}, rng));
  const Tensor<double> sums = sum_per_row(per_token, up).value();
  const double* x = per_token.value().data();
  CHECK(sums[0] == doctest::Approx(x[0] + x[1]));
  CHECK(sums[1] == doctest::Approx(x[2] + x[3] + x[4] + x[5] + x[6]));
  CHECK(sums[2] == doctest::Approx(x[7]));
  TLCR_CHECK_GRADIENTS([&] { return sum_per_row(per_token, up); }, {per_token});
}

TEST_CASE("DPO with the policy equal to its reference: loss log 2, rewards exactly 0") {
  const ThreadCountGuard one_thread(1);  // tiny models: threads only wait on a busy machine
  Rng rng(73);
  const std::vector<TokenizedPair> train = dpo_random_pairs(rng, 10),
                                   held_out = dpo_random_pairs(rng, 6);
  Gpt2<float> policy(dpo_tiny_config(), {}, 5);
  const Gpt2<float> reference(dpo_tiny_config(), {}, 5);
  testing::ScratchDir dir("dpo_equal");
  DpoTrainOptions options = dpo_quick_options();
  options.max_steps = 1;
  options.log_every = 1;
  options.metrics_path = dir.path / "metrics.jsonl";
  const DpoReport report = train_dpo(policy, reference, train, held_out, kDpoEnds, options);
  CHECK(report.before.pairs == 6);
  CHECK(report.before.loss == doctest::Approx(std::log(2.0)).epsilon(1e-15));
  CHECK(report.before.reward_chosen == 0.0);
  CHECK(report.before.reward_rejected == 0.0);
  CHECK(report.before.margin == 0.0);
  CHECK(report.before.accuracy == 0.0);  // ties count as wrong
  CHECK(report.before.logps_chosen < 0);
  const std::vector<nlohmann::json> records = dpo_read_records(options.metrics_path);
  REQUIRE(records.size() == 1);
  const nlohmann::json& step = records[0];
  CHECK(step.at("loss").get<double>() == doctest::Approx(std::log(2.0)).epsilon(1e-6));
  for (const char* key : {"rewards/chosen", "rewards/rejected", "rewards/margins"}) {
    CAPTURE(key);
    CHECK(step.at(key).get<double>() == 0.0);
  }
  CHECK(step.at("rewards/accuracies").get<double>() == 0.0);
  CHECK(step.at("logps/chosen").get<double>() < 0);
  CHECK(step.at("logps/rejected").get<double>() < 0);
  CHECK(step.at("grad_norm").get<double>() > 0);  // log 2 is a value, not a stationary point
  CHECK(step.at("eval").at("rewards/accuracies").is_number());
  // One step moved the policy: held-out rewards are no longer all 0.
  CHECK(report.after.margin != 0.0);
}

TEST_CASE("a short DPO run learns a toy preference: accuracy above 0.9 on fresh pairs") {
  const ThreadCountGuard one_thread(1);  // tiny models: threads only wait on a busy machine
  Rng rng(74);
  const std::vector<TokenizedPair> train = dpo_toy_preferences(rng, 64);
  const std::vector<TokenizedPair> held_out = dpo_toy_preferences(rng, 40);
  Gpt2<float> policy(dpo_tiny_config(), {}, 8);
  const Gpt2<float> reference(dpo_tiny_config(), {}, 8);
  DpoTrainOptions options;
  options.beta = 0.5;
  options.epochs = 4;
  options.batch_size = 8;
  options.lr = 3e-3;
  options.min_lr = 3e-4;
  options.warmup_steps = 4;
  options.progress = false;
  const DpoReport report = train_dpo(policy, reference, train, held_out, kDpoEnds, options);
  MESSAGE("before: " << report.before.summary());
  MESSAGE("after:  " << report.after.summary() << " (" << report.seconds << " s, " << report.steps
                     << " steps)");
  CHECK(report.steps == 32);
  CHECK(report.after.accuracy > 0.9);
  CHECK(report.after.loss < report.before.loss - 0.2);
  CHECK(report.after.reward_chosen > report.after.reward_rejected);
  const DpoEval on_train =
      evaluate_dpo(policy, reference, std::span<const TokenizedPair>(train), kDpoEnds, 0.5);
  CHECK(on_train.accuracy > 0.9);
}

TEST_CASE("DPO: k steps, a checkpoint and a resume end bit for bit where the straight run ends") {
  const ThreadCountGuard one_thread(1);  // tiny models: threads only wait on a busy machine
  Rng rng(75);
  const std::vector<TokenizedPair> train = dpo_random_pairs(rng, 10),
                                   held_out = dpo_random_pairs(rng, 5);
  const Gpt2<float> reference(dpo_tiny_config(), {}, 4);
  auto run = [&](Gpt2<float>& policy, const DpoTrainOptions& options) {
    return train_dpo(policy, reference, train, held_out, kDpoEnds, options);
  };
  const testing::ScratchDir dir("dpo_resume");
  Gpt2<float> straight(dpo_tiny_config(), {}, 5);
  DpoTrainOptions whole = dpo_quick_options();
  whole.metrics_path = dir.path / "straight.jsonl";
  const DpoReport straight_report = run(straight, whole);
  CHECK(straight_report.steps == 12);

  Gpt2<float> interrupted(dpo_tiny_config(), {}, 5);
  DpoTrainOptions head = dpo_quick_options();
  head.stop_after = 5;
  head.checkpoint_every = 2;
  head.checkpoint_dir = dir.path / "ckpt";
  head.metrics_path = dir.path / "resumed.jsonl";
  CHECK(run(interrupted, head).steps == 5);
  CHECK(read_json_file(dir.path / "ckpt" / "trainer_state.json").at("step") == 5);
  CHECK(testing::max_abs_diff(interrupted.params().values(), straight.params().values()) > 0.0);

  // Everything comes from the checkpoint, not from the fresh policy's initialisation.
  Gpt2<float> resumed(dpo_tiny_config(), {}, 999);
  DpoTrainOptions tail = dpo_quick_options();
  tail.resume_from = dir.path / "ckpt";
  tail.metrics_path = dir.path / "resumed.jsonl";
  const DpoReport tail_report = run(resumed, tail);
  CHECK(testing::max_abs_diff(resumed.params().values(), straight.params().values()) == 0.0);
  CHECK(tail_report.steps == straight_report.steps);
  CHECK(tail_report.last_loss == straight_report.last_loss);
  CHECK(tail_report.before.to_json() == straight_report.before.to_json());
  CHECK(tail_report.after.to_json() == straight_report.after.to_json());
  CHECK(testing::read_file(dir.path / "resumed.jsonl") ==
        testing::read_file(dir.path / "straight.jsonl"));
  const std::vector<nlohmann::json> records = dpo_read_records(dir.path / "straight.jsonl");
  REQUIRE(records.size() == 6);  // steps 2, 4, …, 12
  CHECK(records[5].at("rewards/margins").get<double>() ==
        doctest::Approx(records[5].at("rewards/chosen").get<double>() -
                        records[5].at("rewards/rejected").get<double>()));

  // A resume with another β is refused, naming the setting.
  Gpt2<float> other(dpo_tiny_config(), {}, 5);
  DpoTrainOptions other_beta = tail;
  other_beta.beta = 0.25;
  CHECK_THROWS_WITH_AS(run(other, other_beta),
                       doctest::Contains("setting 'beta' was 0.5, this run has 0.25"), Error);
}

TEST_CASE("DPO: micro-batches give the one-batch step up to rounding (double)") {
  const ThreadCountGuard one_thread(1);  // tiny models: threads only wait on a busy machine
  Rng rng(76);
  const std::vector<TokenizedPair> train = dpo_random_pairs(rng, 9),
                                   held_out = dpo_random_pairs(rng, 3);
  const Gpt2<double> reference(dpo_tiny_config(), {}, 4);
  DpoTrainOptions options = dpo_quick_options();
  options.max_steps = 4;
  options.batch_size = 5;
  options.grad_clip = 0.05;  // the clip acts on the summed gradient, so it must be the same
  Gpt2<double> whole(dpo_tiny_config(), {}, 5), parts(dpo_tiny_config(), {}, 5);
  const DpoReport one = train_dpo(whole, reference, train, held_out, kDpoEnds, options);
  options.micro_batches = 3;  // uneven parts: 1 + 2 + 2
  const DpoReport three = train_dpo(parts, reference, train, held_out, kDpoEnds, options);
  CHECK(testing::max_abs_diff(whole.params().values(), parts.params().values()) < 1e-12);
  CHECK(testing::max_abs_diff(whole.params().values(), reference.params().values()) > 1e-4);
  CHECK(three.last_loss == doctest::Approx(one.last_loss).epsilon(1e-12));
  CHECK(three.after.loss == doctest::Approx(one.after.loss).epsilon(1e-12));
}

TEST_CASE("a DPO run and the DPO token reward are bitwise the same on Cpu and SealedCpu") {
  const ThreadCountGuard one_thread(1);  // tiny models: threads only wait on a busy machine
  Rng rng(77);
  const std::vector<TokenizedPair> train = dpo_random_pairs(rng, 8),
                                   held_out = dpo_random_pairs(rng, 4);
  DpoTrainOptions options = dpo_quick_options();
  options.batch_size = 4;
  auto run = [&]<class D>(D, int64_t steps, TransferCounts* counts) {
    Transformer<float, Gpt2Arch, D> policy(dpo_tiny_config(), {}, 5);
    auto reference =
        std::make_shared<const Transformer<float, Gpt2Arch, D>>(dpo_tiny_config(), HeadConfig{}, 4);
    DpoTrainOptions o = options;
    o.max_steps = steps;
    reset_transfer_counts<SealedCpu>();
    const DpoReport report = train_dpo(policy, *reference, train, held_out, kDpoEnds, o);
    if (counts) *counts = transfer_counts<SealedCpu>();
    TokenSequences prompts, responses;
    for (const TokenizedPair& p : held_out)
      prompts.push_back(p.prompt), responses.push_back(p.chosen);
    const DpoTokenReward<float, Gpt2Arch, D> reward(
        std::make_shared<const Transformer<float, Gpt2Arch, D>>(std::move(policy)), reference,
        kDpoEnds, 0.5, 3);
    return std::make_pair(report, reward.score(prompts, responses));
  };
  const auto [cpu_report, cpu_rewards] = run(Cpu{}, 3, nullptr);
  const auto [sealed_report, sealed_rewards] = run(SealedCpu{}, 3, nullptr);
  CHECK(cpu_report.last_loss == sealed_report.last_loss);
  CHECK(cpu_report.after.to_json() == sealed_report.after.to_json());
  CHECK(cpu_rewards == sealed_rewards);
  // One step's transfers: the difference between runs of 2 and 1 steps (the evaluations are the
  // same). Up: ids with positions and every index array, the key mask. Down: the both models'
  // sequence log-probs, the loss and Σ g².
  TransferCounts one, two;
  run(SealedCpu{}, 1, &one);
  run(SealedCpu{}, 2, &two);
  CHECK(two.to_device - one.to_device == 2);
  CHECK(two.to_host - one.to_host == 3);
}

TEST_CASE("DpoTokenReward: β·(log π − log π_ref) per token up to the first EOS, 0 after") {
  const ThreadCountGuard one_thread(1);  // tiny models: threads only wait on a busy machine
  static_assert(TokenRewardModel<DpoTokenReward<float, Gpt2Arch>>);
  Rng rng(78);
  Gpt2<float> changed(dpo_tiny_config(), {}, 3);
  for (float& v : changed.params().values()) v += float(0.05 * rng.normal());
  auto policy = std::make_shared<const Gpt2<float>>(std::move(changed));
  auto reference = std::make_shared<const Gpt2<float>>(dpo_tiny_config(), HeadConfig{}, 3);
  const double beta = 0.4;
  const DpoTokenReward<float, Gpt2Arch> reward(policy, reference, kDpoEnds, beta, 2);
  CHECK(reward.name() == "dpo (beta 0.4)");

  // Random rows: EOS somewhere (or nowhere), padding after it, a row of padding only.
  TokenSequences prompts, responses;
  for (int i = 0; i < 7; ++i) {
    prompts.push_back(dpo_random_tokens(rng, 1, 4));
    std::vector<int32_t> response = dpo_random_tokens(rng, 1, 6);
    if (i % 3 != 2) response.push_back(kDpoEnds.eos);
    if (i % 2 == 0) response.insert(response.end(), 2, int32_t(kDpoEnds.pad));
    responses.push_back(response);
  }
  prompts.push_back({1});
  responses.push_back({kDpoEnds.pad, kDpoEnds.pad});
  const TokenRewards r = reward.score(prompts, responses);
  check_reward_shape(responses, r, "DpoTokenReward");
  for (std::size_t row = 0; row < responses.size(); ++row) {
    CAPTURE(row);
    const std::size_t length = kDpoEnds.length_with_eos(responses[row]);
    const std::vector<int32_t> kept(responses[row].begin(), responses[row].begin() + length);
    const auto lp = dpo_single_row_log_probs(*policy, prompts[row], kept);
    const auto ref = dpo_single_row_log_probs(*reference, prompts[row], kept);
    double total = 0, expected_total = 0;
    for (std::size_t t = 0; t < responses[row].size(); ++t) {
      CAPTURE(t);
      if (t < length) {
        CHECK(r[row][t] == doctest::Approx(beta * (lp[t] - ref[t])).epsilon(1e-4).scale(1e-3));
        total += r[row][t];
        expected_total += beta * (lp[t] - ref[t]);
      } else {
        CHECK(r[row][t] == 0.0f);
      }
    }
    CHECK(total == doctest::Approx(expected_total).epsilon(1e-4).scale(1e-3));
  }
  // The sum is the implicit sequence reward β·(log π(y) − log π_ref(y)) of the batched path.
  TokenSequences scored_prompts(prompts.begin(), prompts.end() - 1);
  TokenSequences scored_responses(responses.begin(), responses.end() - 1);
  const auto policy_logps = sequence_log_probs(*policy, scored_prompts, scored_responses, kDpoEnds);
  const auto reference_logps =
      sequence_log_probs(*reference, scored_prompts, scored_responses, kDpoEnds);
  bool any_nonzero = false;
  for (std::size_t row = 0; row < scored_responses.size(); ++row) {
    double total = 0;
    for (float value : r[row]) total += value;
    any_nonzero = any_nonzero || total != 0;
    CHECK(total == doctest::Approx(beta * (policy_logps[row] - reference_logps[row]))
                       .epsilon(1e-4)
                       .scale(1e-3));
  }
  CHECK(any_nonzero);
  CHECK(std::all_of(r.back().begin(), r.back().end(), [](float v) { return v == 0.0f; }));

  // Batching changes nothing beyond rounding.
  const TokenRewards one_by_one =
      DpoTokenReward<float, Gpt2Arch>(policy, reference, kDpoEnds, beta, 1)
          .score(prompts, responses);
  for (std::size_t row = 0; row < responses.size(); ++row)
    for (std::size_t t = 0; t < responses[row].size(); ++t)
      CHECK(one_by_one[row][t] == doctest::Approx(r[row][t]).epsilon(1e-4).scale(1e-5));

  // The policy as its own reference: exactly 0 everywhere.
  const TokenRewards zero =
      DpoTokenReward<float, Gpt2Arch>(
          reference, std::make_shared<const Gpt2<float>>(dpo_tiny_config(), HeadConfig{}, 3),
          kDpoEnds, beta)
          .score(prompts, responses);
  for (const auto& row : zero)
    for (float value : row) CHECK(value == 0.0f);
}

TEST_CASE("DPO policy directories, the loader, and bad input") {
  const ThreadCountGuard one_thread(1);  // tiny models: threads only wait on a busy machine
  Rng rng(79);
  testing::ScratchDir dir("dpo_files");
  auto policy = std::make_shared<Gpt2<float>>(dpo_tiny_config(), HeadConfig{}, 3);
  for (float& v : policy->params().values()) v += float(0.05 * rng.normal());
  const auto reference = std::make_shared<const Gpt2<float>>(dpo_tiny_config(), HeadConfig{}, 4);
  save_model(dir.path / "sft", *reference);
  BpeTrainOptions bpe;
  bpe.vocab_size = 262;
  const std::vector<std::string> texts(4, "the cat sat on the mat");
  const BpeTokenizer tokenizer = train_bpe(texts, bpe);
  const DpoEval eval =
      dpo_statistics(std::vector<double>{-1.0, -2.0}, std::vector<double>{-1.5, -1.5}, 0.2);
  save_dpo_policy(dir.path / "dpo", *policy, tokenizer,
                  {.beta = 0.2, .reference = dir.path / "sft"}, eval);
  CHECK(std::filesystem::exists(dir.path / "dpo" / "tokenizer.json"));
  CHECK(reward_model_kind(dir.path / "dpo") == "dpo");
  const std::optional<DpoPolicyInfo> info = read_dpo_policy_info(dir.path / "dpo");
  REQUIRE(info.has_value());
  CHECK(info->beta == 0.2);
  CHECK(info->reference == dir.path / "sft");
  CHECK_FALSE(read_dpo_policy_info(dir.path / "sft").has_value());
  CHECK(read_reward_metadata(dir.path / "dpo")->at("held_out") == nlohmann::json(eval.to_json()));
  // A DPO policy loads as a plain model.
  const Gpt2<float> loaded = load_model<float, Gpt2Arch>(dir.path / "dpo");
  CHECK(testing::max_abs_diff(loaded.params().values(), policy->params().values()) == 0.0);

  const auto reward = load_dpo_token_reward<float, Gpt2Arch>(dir.path / "dpo", dir.path / "sft",
                                                             kDpoEnds, info->beta);
  const DpoTokenReward<float, Gpt2Arch> in_memory(policy, reference, kDpoEnds, 0.2);
  const TokenSequences prompts = {{1, 2}, {3}}, responses = {{4, 5, 10}, {6, 10, 11}};
  CHECK(reward.score(prompts, responses) == in_memory.score(prompts, responses));

  // Bad input: what was expected, what was found.
  const std::vector<TokenizedPair> pairs = dpo_random_pairs(rng, 4);
  DpoTrainOptions options = dpo_quick_options();
  options.beta = 0;
  Gpt2<float> trained(dpo_tiny_config(), {}, 3);
  CHECK_THROWS_WITH_AS(train_dpo(trained, *reference, pairs, pairs, kDpoEnds, options),
                       doctest::Contains("dpo: expected β (beta) > 0, got 0"), Error);
  const Gpt2<float> scorer(dpo_tiny_config(), {.lm = false, .sequence_score = true}, 3);
  CHECK_THROWS_WITH_AS(train_dpo(trained, scorer, pairs, pairs, kDpoEnds, dpo_quick_options()),
                       doctest::Contains("expected a reference with an LM head"), Error);
  CHECK_THROWS_WITH_AS((DpoTokenReward<float, Gpt2Arch>(policy, reference, kDpoEnds, -1.0)),
                       doctest::Contains("DpoTokenReward: expected β (beta) > 0, got -1"), Error);
  CHECK_THROWS_WITH_AS(in_memory.score(TokenSequences{std::vector<int32_t>{}}, {{1, 10}}),
                       doctest::Contains("row 0 has an empty prompt"), Error);
  CHECK_THROWS_WITH_AS(in_memory.score({std::vector<int32_t>(30, 1)}, {{1, 2, 3, 10}}),
                       doctest::Contains("row 0 has 30 prompt + 4 response tokens, more than the "
                                         "model's context of 32"),
                       Error);
  DpoTrainOptions short_run = dpo_quick_options();
  short_run.max_steps = 1;
  std::vector<TokenizedPair> empty_side = pairs;
  empty_side[2].rejected = {kDpoEnds.pad, kDpoEnds.eos};
  const std::string empty_message =
      "dpo: held-out pair 2 has " + std::to_string(pairs[2].prompt.size()) + " prompt tokens, " +
      std::to_string(pairs[2].chosen.size()) + " chosen and 0 rejected tokens up to the first EOS";
  CHECK_THROWS_WITH_AS(train_dpo(trained, *reference, pairs, empty_side, kDpoEnds, short_run),
                       doctest::Contains(empty_message.c_str()), Error);
  // Pairs too long for the context are left out and counted; none left is an error.
  std::vector<TokenizedPair> long_pairs = pairs;
  long_pairs[0].prompt.assign(40, 1);
  Gpt2<float> fits(dpo_tiny_config(), {}, 3);
  CHECK(train_dpo(fits, *reference, long_pairs, pairs, kDpoEnds, short_run).skipped_too_long == 1);
  std::vector<TokenizedPair> all_long = {long_pairs[0]};
  CHECK_THROWS_WITH_AS(train_dpo(fits, *reference, all_long, pairs, kDpoEnds, short_run),
                       doctest::Contains("dpo: no training pairs fit the context of 32"), Error);
}
