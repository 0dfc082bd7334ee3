// Tests for rlhf/token_reward.hpp (the TokenRewardModel concept and its shape check) and
// rlhf/reward_data.hpp (where a response ends, held-out splits).
#include "support/testing.hpp"

#include <tlcr/rlhf/reward_data.hpp>
#include <tlcr/rlhf/token_reward.hpp>

using namespace tlcr;

namespace {
// +1 on token 5, −1 on token 7, 0 elsewhere: the smallest dense reward.
struct FiveGoodSevenBad {
  TokenRewards score(const TokenSequences&, const TokenSequences& responses) const {
    TokenRewards rewards;
    for (const auto& r : responses) {
      rewards.emplace_back();
      for (int32_t t : r) rewards.back().push_back(t == 5 ? 1.0f : t == 7 ? -1.0f : 0.0f);
    }
    return rewards;
  }
  std::string name() const { return "five-good-seven-bad"; }
};
struct NotAReward {
  int score() const { return 0; }
};
}  // namespace

static_assert(TokenRewardModel<FiveGoodSevenBad>);
static_assert(!TokenRewardModel<NotAReward>);

TEST_CASE("check_reward_shape accepts one reward per token and names the row that is off") {
  const TokenSequences responses{{5, 1, 7}, {2}};
  const TokenRewards good = FiveGoodSevenBad{}.score({}, responses);
  CHECK(good[0] == std::vector<float>{1, 0, -1});
  CHECK_NOTHROW(check_reward_shape(responses, good, "toy"));
  TokenRewards short_row = good;
  short_row[1].clear();
  CHECK_THROWS_WITH_AS(check_reward_shape(responses, short_row, "toy"), doctest::Contains("toy: row 1 has 0 rewards for 1 response tokens"), Error);
  CHECK_THROWS_WITH_AS(check_reward_shape(responses, {good[0]}, "toy"), doctest::Contains("1 reward rows for 2 responses"), Error);
}

TEST_CASE("ResponseEnds finds the scored tokens and the terminating EOS") {
  const ResponseEnds ends{.eos = 9, .pad = 0};
  const std::vector<int32_t> with_eos{4, 5, 9, 0, 0}, cut{4, 5, 6};
  CHECK(ends.scored_length(with_eos) == 2);
  CHECK(ends.length_with_eos(with_eos) == 3);
  CHECK(ends.scored_length(cut) == 3);
  CHECK(ends.length_with_eos(cut) == 3);
}

TEST_CASE("split_held_out is a deterministic partition of the requested size") {
  std::vector<int> items(50);
  for (int i = 0; i < 50; ++i) items[i] = i;
  const auto [train, held] = split_held_out(items, 0.2, 3);
  CHECK(held.size() == 10);
  CHECK(train.size() == 40);
  std::vector<int> all = train;
  all.insert(all.end(), held.begin(), held.end());
  std::sort(all.begin(), all.end());
  CHECK(all == items);
  CHECK(split_held_out(items, 0.2, 3).second == held);
  CHECK(split_held_out(items, 0.2, 4).second != held);
  CHECK_THROWS_AS(split_held_out(items, 1.0, 3), Error);
}
