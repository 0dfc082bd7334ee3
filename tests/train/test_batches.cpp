// Tests for train/batches.hpp: padding on either side, loss only on response tokens, positions
// that skip padding, LM windows that cover the stream and reshuffle deterministically.
#include <doctest/doctest.h>
#include <tlcr/train/batches.hpp>

#include <set>

using namespace tlcr;

TEST_CASE("make_sequence_batch pads right or left and targets only the loss span") {
  const std::vector<SequenceRow> rows{{{10, 11, 12, 13}, 2}, {{20, 21}, 1}};
  const TokenBatch right = make_sequence_batch(rows, 16, 0, Padding::Right);
  CHECK(right.time == 4);
  CHECK(right.inputs == std::vector<int32_t>{10, 11, 12, 13, 20, 21, 0, 0});
  CHECK(right.targets == std::vector<int32_t>{kIgnoreIndex, 12, 13, kIgnoreIndex, 21, kIgnoreIndex, kIgnoreIndex, kIgnoreIndex});
  CHECK(right.key_mask == std::vector<uint8_t>{1, 1, 1, 1, 1, 1, 0, 0});
  CHECK(right.positions == std::vector<int32_t>{0, 1, 2, 3, 0, 1, 0, 0});
  CHECK(right.target_count() == 3);

  const TokenBatch left = make_sequence_batch(rows, 16, 0, Padding::Left);
  CHECK(left.inputs == std::vector<int32_t>{10, 11, 12, 13, 0, 0, 20, 21});
  CHECK(left.positions == std::vector<int32_t>{0, 1, 2, 3, 0, 0, 0, 1});
  CHECK(left.targets[6] == 21);
}

TEST_CASE("make_sequence_batch cuts rows longer than max_time") {
  const std::vector<SequenceRow> rows{{{1, 2, 3, 4, 5, 6}, 1}};
  const TokenBatch cut = make_sequence_batch(rows, 3, 0);
  CHECK(cut.time == 3);
  CHECK(cut.inputs == std::vector<int32_t>{1, 2, 3});
  CHECK(cut.targets == std::vector<int32_t>{2, 3, kIgnoreIndex});
}

TEST_CASE("LmBatcher windows tile the stream, reshuffle per epoch, and resume exactly") {
  std::vector<int32_t> stream(101);
  for (int i = 0; i < 101; ++i) stream[i] = i;
  LmBatcher batcher(stream, 2, 10, 5);
  CHECK(batcher.windows_per_epoch() == 10);
  std::set<int32_t> first_tokens;
  for (int i = 0; i < 5; ++i) {
    const TokenBatch batch = batcher.next();
    for (int64_t b = 0; b < 2; ++b) {
      first_tokens.insert(batch.inputs[b * 10]);
      for (int64_t t = 0; t < 10; ++t) CHECK(batch.targets[b * 10 + t] == batch.inputs[b * 10 + t] + 1);
    }
  }
  CHECK(first_tokens.size() == 10);  // one epoch visits every window once
  CHECK(batcher.epoch() == 0);

  const auto saved = batcher.state();
  const TokenBatch expected = batcher.next();
  CHECK(batcher.epoch() == 1);
  LmBatcher resumed(stream, 2, 10, 999);
  resumed.set_state(saved);
  CHECK(resumed.next().inputs == expected.inputs);

  LmBatcher same_seed(stream, 2, 10, 5), other_seed(stream, 2, 10, 6);
  CHECK(same_seed.next().inputs == LmBatcher(stream, 2, 10, 5).next().inputs);
  CHECK_THROWS_WITH_AS(LmBatcher(std::vector<int32_t>(5), 1, 10, 0), doctest::Contains("fewer than one window of 11"), Error);
}
