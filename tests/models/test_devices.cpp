// Tests for the device seam: SealedCpu (host memory, CPU kernels, no element access from generic
// code) runs the models, optimisers and training loop with bitwise the results of Cpu, and moves
// a bounded number of values between host and device per step, independent of the token count.
#include "support/testing.hpp"

using namespace tlcr;

// ---- sealing: element access does not compile for a SealedCpu tensor ----
template <class Tn>
concept HasData = requires(Tn& t) {
  t.data();
};
template <class Tn>
concept HasIndex = requires(Tn& t) {
  t[0];
};
template <class Tn>
concept HasMatrix = requires(Tn& t) {
  t.matrix();
};
template <class Tn>
concept HasVector = requires(Tn& t) {
  t.vector();
};
template <class Tn>
concept HasBegin = requires(Tn& t) {
  t.begin();
};

static_assert(HasData<Tensor<float>> && HasIndex<Tensor<float>> && HasMatrix<Tensor<float>> &&
              HasVector<Tensor<float>> && HasBegin<Tensor<float>>);
static_assert(!HasData<Tensor<float, SealedCpu>> && !HasIndex<Tensor<float, SealedCpu>> &&
              !HasMatrix<Tensor<float, SealedCpu>> && !HasVector<Tensor<float, SealedCpu>> &&
              !HasBegin<Tensor<float, SealedCpu>>);
static_assert(!HasData<const Tensor<double, SealedCpu>> &&
              !HasIndex<const Tensor<double, SealedCpu>>);
// Existing spellings name the Cpu device.
static_assert(std::is_same_v<Tensor<float>, Tensor<float, Cpu>>);
static_assert(std::is_same_v<Var<float>, Var<float, Cpu>>);
static_assert(std::is_same_v<Gpt2<float>, Transformer<float, Gpt2Arch, Cpu>>);
static_assert(std::is_same_v<AdamW<float>, AdamW<float, Cpu>>);

namespace {

TokenBatch random_batch(Rng& rng, int64_t rows, int64_t time, int32_t vocab) {
  std::vector<SequenceRow> batch_rows;
  for (int64_t b = 0; b < rows; ++b) {
    SequenceRow row;
    // Rows of different lengths, so padding and the key mask take part.
    const int64_t length = time - (b % 3);
    for (int64_t t = 0; t < length; ++t) row.tokens.push_back(int32_t(rng.uniform_int(vocab)));
    row.loss_begin = 1 + (b % 2);
    batch_rows.push_back(std::move(row));
  }
  return make_sequence_batch(batch_rows, time, 0);
}

// Trains `model` for `steps` AdamW steps (backward → finite check and clip → step) on batches drawn
// from `seed`; returns the losses read after each step.
template <class Model>
std::vector<float> train(Model& model, int steps, uint64_t seed, int64_t rows = 3,
                         int64_t time = 9) {
  using D = typename std::remove_cvref_t<decltype(model.params().values())>::device_type;
  AdamW<float, D> optimizer(model.params(), {.lr = 3e-3, .weight_decay = 0.1});
  Rng rng(seed);
  std::vector<float> losses;
  for (int step = 0; step < steps; ++step) {
    const TokenBatch batch = random_batch(rng, rows, time, int32_t(model.config().vocab_size));
    model.params().zero_grad();
    const auto loss = language_model_loss(model, batch);
    losses.push_back(loss.item());
    backward(loss);
    check_and_clip_grad_norm(model.params(), 0.5, "device test");
    optimizer.step();
  }
  return losses;
}

template <class Arch>
void check_training_matches() {
  TransformerConfig config = Arch::kRotary ? TransformerConfig::llama(37, 16, 2, 2, 16)
                                           : TransformerConfig::gpt2(37, 16, 2, 2, 16);
  Transformer<float, Arch, Cpu> on_cpu(config, {}, 11);
  Transformer<float, Arch, SealedCpu> sealed(config, {}, 11);
  REQUIRE(on_cpu.params().values().to_vector() == sealed.params().values().to_vector());
  const std::vector<float> cpu_losses = train(on_cpu, 4, 5);
  const std::vector<float> sealed_losses = train(sealed, 4, 5);
  CHECK(cpu_losses == sealed_losses);
  CHECK(cpu_losses.back() != cpu_losses.front());  // it trained
  CHECK(on_cpu.params().values().to_vector() == sealed.params().values().to_vector());
}

}  // namespace

TEST_CASE("SealedCpu trains a GPT-2 and a Llama model bitwise like Cpu") {
  check_training_matches<Gpt2Arch>();
  check_training_matches<LlamaArch>();
}

TEST_CASE("SealedCpu: every head and the KV cache give Cpu's bits") {
  const TransformerConfig config = TransformerConfig::gpt2(29, 12, 2, 2, 8);
  const HeadConfig heads{.lm = true, .value = true, .token_classes = 2};
  Gpt2<float> on_cpu(config, heads, 3);
  Gpt2<float, SealedCpu> sealed(config, heads, 3);
  Gpt2<float> scorer_on_cpu(config, {.lm = false, .sequence_score = true}, 4);
  Gpt2<float, SealedCpu> sealed_scorer(config, {.lm = false, .sequence_score = true}, 4);
  Rng rng(77);
  const TokenBatch batch = random_batch(rng, 3, 7, 29);
  const ModelInput input = ModelInput::from(batch);
  NoGrad no_grad;
  const auto h_cpu = on_cpu.hidden(input);
  const auto h_sealed = sealed.hidden(input);
  CHECK(h_cpu.value().to_vector() == h_sealed.value().to_vector());
  CHECK(on_cpu.lm_logits(h_cpu).value().to_vector() ==
        sealed.lm_logits(h_sealed).value().to_vector());
  CHECK(on_cpu.values(h_cpu).value().to_vector() == sealed.values(h_sealed).value().to_vector());
  CHECK(on_cpu.token_logits(h_cpu).value().to_vector() ==
        sealed.token_logits(h_sealed).value().to_vector());
  const std::vector<int32_t> last{6, 5, 4};
  CHECK(scorer_on_cpu.sequence_scores(scorer_on_cpu.hidden(input), last).value().to_vector() ==
        sealed_scorer.sequence_scores(sealed_scorer.hidden(input), last).value().to_vector());

  // Incremental decoding through the cache: a prompt of 4 steps, then 3 single steps.
  KvCache<float> cpu_cache(2, 1, 2, 8, 4);
  KvCache<float, SealedCpu> sealed_cache(2, 1, 2, 8, 4);
  std::vector<int32_t> ids{1, 2, 3, 4};
  for (int step = 0; step < 4; ++step) {
    const ModelInput in{1, int64_t(ids.size()), ids, {}, {}};
    const auto a = on_cpu.lm_logits(on_cpu.hidden(in, &cpu_cache));
    const auto b = sealed.lm_logits(sealed.hidden(in, &sealed_cache));
    CHECK(a.value().to_vector() == b.value().to_vector());
    ids = {int32_t(5 + step)};
  }
  CHECK(cpu_cache.length() == 7);
}

TEST_CASE("SealedCpu: transfers per training step are few and do not grow with the batch") {
  const TransformerConfig config = TransformerConfig::gpt2(31, 32, 2, 2, 16);
  auto transfers_per_step = [&](int64_t rows, int64_t time) {
    Gpt2<float, SealedCpu> model(config, {}, 1);
    train(model, 1, 9, rows, time);  // warm: the optimiser's state exists
    reset_transfer_counts<SealedCpu>();
    train(model, 1, 9, rows, time);
    return transfer_counts<SealedCpu>();
  };
  const TransferCounts small = transfers_per_step(2, 8);
  const TransferCounts large = transfers_per_step(6, 30);
  MESSAGE("transfers per LM training step (2 layers): ", small.to_device, " to device, ",
          small.to_host, " to host; ", small.bytes_to_device, " / ", large.bytes_to_device,
          " bytes up for 16 / 180 tokens");
  // Downloads: the loss, and Σ g² for the finite check and the clipping norm: one scalar each.
  CHECK(small.to_host == 2);
  CHECK(large.to_host == 2);
  CHECK(small.bytes_to_host == large.bytes_to_host);
  // Uploads: the batch's index data in two: token ids, positions and targets; the key mask.
  CHECK(small.to_device == 2);
  CHECK(large.to_device == 2);
  // Cpu never counts.
  reset_transfer_counts<Cpu>();
  Gpt2<float> on_cpu(config, {}, 1);
  train(on_cpu, 1, 9);
  CHECK(transfer_counts<Cpu>().total() == 0);
}

TEST_CASE("SealedCpu: values cross only at the named points") {
  reset_transfer_counts<SealedCpu>();
  const auto t = Tensor<float, SealedCpu>::from(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK(transfer_counts<SealedCpu>().to_device == 1);
  const Tensor<float, SealedCpu> view = t.slice(1, 2).reshape(Shape{3});
  CHECK(view.to_vector() == std::vector<float>{4, 5, 6});
  Tensor<float> host = t.to_host();
  CHECK(host[5] == 6.0f);
  host[5] = -1;  // a copy: the device tensor keeps its value
  CHECK(t.at(1).to_vector()[2] == 6.0f);
  auto copy = Tensor<float, SealedCpu>::to_device(host);
  CHECK(copy.to_vector()[5] == -1.0f);
  const TransferCounts counts = transfer_counts<SealedCpu>();
  CHECK(counts.to_device == 2);
  CHECK(counts.to_host == 4);
  CHECK(counts.bytes_to_device == 48);
}

namespace {
template <class D>
GenerationResult sample_batch(const Gpt2<float, D>& model, int64_t max_new_tokens) {
  const std::vector<std::vector<int32_t>> prompts{{1, 2, 3}, {4}, {5, 6, 7, 8, 9}, {2, 2}};
  GenerationOptions options;
  options.sampling = {.temperature = 0.9, .top_k = 12, .top_p = 0.95};
  options.max_new_tokens = max_new_tokens;
  options.eos_token = 3;
  options.stop_tokens = {7};
  Rng rng(2024);
  return generate(model, prompts, options, rng);
}
}  // namespace

TEST_CASE("SealedCpu: batched KV-cache generation gives Cpu's tokens and log-probs") {
  const TransformerConfig config = TransformerConfig::gpt2(19, 40, 2, 2, 16);
  Gpt2<float> on_cpu(config, {}, 8);
  Gpt2<float, SealedCpu> sealed(config, {}, 8);
  const GenerationResult a = sample_batch(on_cpu, 20);
  const GenerationResult b = sample_batch(sealed, 20);
  CHECK(a.tokens == b.tokens);
  CHECK(a.logprobs == b.logprobs);
  CHECK(a.stopped == b.stopped);
  int64_t total = 0;
  for (const auto& row : a.tokens) total += int64_t(row.size());
  CHECK(total > 8);  // the rows did generate

  // Transfers per generated batch: a fixed number of uploads, the results once at the end, and
  // the "all finished?" flags every 8 steps — never per token or per element.
  auto transfers = [&](int64_t max_new_tokens) {
    reset_transfer_counts<SealedCpu>();
    sample_batch(sealed, max_new_tokens);
    return transfer_counts<SealedCpu>();
  };
  const TransferCounts short_run = transfers(8), long_run = transfers(32);
  MESSAGE("transfers per generated batch of 4 rows: ", short_run.to_device, " up, ",
          short_run.to_host, " down (8 new tokens); ", long_run.to_device, " up, ",
          long_run.to_host, " down (32 new tokens)");
  // Up: the int32 index data (prompt ids, their positions, the position counters, the stop tokens,
  // the rows of the prompts' last steps) as one upload, the key mask, the row Rngs.
  CHECK(short_run.to_device == 3);
  CHECK(long_run.to_device == 3);
  // Down: tokens, log-probs, lengths and stop flags as one table, plus one finished-flags check per
  // 8 steps run.
  CHECK(short_run.to_host == 1);
  CHECK(long_run.to_host <= 1 + 32 / 8);
}
