// tlcr/train/batches.hpp — turning token sequences into padded (B, T) training batches.
//
// TokenBatch (models/token_batch.hpp) is what every model forward takes.
// LmBatcher cuts a token stream into shuffled windows for pretraining; make_sequence_batch pads
// (prompt, response) pairs for SFT with the loss on response tokens only. ShuffledOrder is the one
// shuffled, resumable pass over a data set that every trainer and PPO use.
// Not here: tokenisation (text/), the model (models/).
// Shape legend: B = batch rows, T = time steps (the padded length).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tlcr/core/rng.hpp"
#include "tlcr/models/token_batch.hpp"

namespace tlcr {

// One row of a sequence batch: `tokens` with the loss on tokens[loss_begin:] (each predicted from
// the tokens before it).
struct SequenceRow {
  std::vector<int32_t> tokens;
  int64_t loss_begin = 1;
};

// Pads rows to the longest (≤ max_time; longer rows are cut at the right) on the given side.
// targets[i] = tokens[i+1] where token i+1 is in the loss span, else kIgnoreIndex.
inline TokenBatch make_sequence_batch(std::span<const SequenceRow> rows, int64_t max_time,
                                      int32_t pad_token, Padding side = Padding::Right) {
  TLCR_CHECK(!rows.empty(), "make_sequence_batch: no rows");
  TokenBatch batch;
  batch.batch = static_cast<int64_t>(rows.size());
  for (const auto& row : rows)
    batch.time = std::max<int64_t>(batch.time, std::min<int64_t>(row.tokens.size(), max_time));
  batch.inputs.assign(batch.size(), pad_token);
  batch.targets.assign(batch.size(), kIgnoreIndex);
  batch.key_mask.assign(batch.size(), 0);
  for (int64_t b = 0; b < batch.batch; ++b) {
    const SequenceRow& row = rows[b];
    const int64_t length = std::min<int64_t>(row.tokens.size(), max_time);
    const int64_t offset = side == Padding::Left ? batch.time - length : 0;
    for (int64_t t = 0; t < length; ++t) {
      const int64_t i = b * batch.time + offset + t;
      batch.inputs[i] = row.tokens[t];
      batch.key_mask[i] = 1;
      if (t + 1 < length && t + 1 >= row.loss_begin) batch.targets[i] = row.tokens[t + 1];
    }
  }
  assign_positions(batch);
  return batch;
}

// Where a batcher is in its shuffled pass over the data (for exact resume).
struct BatcherState {
  std::array<uint64_t, 6> rng{};
  int64_t epoch = 0;
  std::size_t cursor = 0;
  std::vector<int64_t> order;
};

namespace detail {
// Fisher–Yates with the deterministic Rng.
inline void shuffle_in_place(std::vector<int64_t>& order, Rng& rng) {
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.uniform_int(i)]);
}
}  // namespace detail

// A shuffled order of `count` items (indices 0 … count − 1), reshuffled from its own Rng each
// time a pass is used up. The reshuffle waits until the next index is asked for, so a state saved
// at a pass's end resumes identically. Every shuffled pass in tlcr is one of these: the LM and SFT
// batchers below, the reward-model trainers' examples (example_loop.hpp) and PPO's prompts.
class ShuffledOrder {
 public:
  // `what` names the order and `unit` its items in error messages.
  ShuffledOrder(int64_t count, Rng rng, std::string what = "ShuffledOrder",
                std::string unit = "items")
      : rng_(rng), what_(std::move(what)), unit_(std::move(unit)) {
    TLCR_CHECK(count > 0, what_, ": no ", unit_);
    for (int64_t i = 0; i < count; ++i) order_.push_back(i);
    detail::shuffle_in_place(order_, rng_);
  }

  int64_t size() const { return static_cast<int64_t>(order_.size()); }
  int64_t epoch() const { return epoch_; }

  int64_t next() {
    if (cursor_ == order_.size()) new_pass();
    return order_[cursor_++];
  }
  // The next `n` indices, running on into the next pass.
  std::vector<int64_t> next(int64_t n) {
    std::vector<int64_t> picked;
    for (int64_t k = 0; k < n; ++k) picked.push_back(next());
    return picked;
  }
  // Up to `n` indices, never reaching past the pass's end (a pass's last batch may be smaller).
  std::vector<int64_t> next_in_pass(int64_t n) {
    if (cursor_ == order_.size()) new_pass();
    std::vector<int64_t> picked;
    while (cursor_ < order_.size() && static_cast<int64_t>(picked.size()) < n)
      picked.push_back(order_[cursor_++]);
    return picked;
  }

  BatcherState state() const { return {rng_.state(), epoch_, cursor_, order_}; }
  // Checks that a saved state is a permutation of this order's items before taking it.
  void set_state(const BatcherState& s) {
    TLCR_CHECK(s.order.size() == order_.size(), what_, ": the saved order has ", s.order.size(),
               " ", unit_, ", this run has ", order_.size());
    TLCR_CHECK(s.cursor <= s.order.size(), what_, ": the saved cursor ", s.cursor,
               " is past the end of its ", s.order.size(), " ", unit_);
    std::vector<bool> seen(order_.size(), false);
    for (int64_t index : s.order) {
      TLCR_CHECK(index >= 0 && index < size() && !seen[index], what_,
                 ": the saved order is not a permutation of 0…", order_.size() - 1, " (found ",
                 index, ")");
      seen[index] = true;
    }
    rng_.set_state(s.rng), epoch_ = s.epoch, cursor_ = s.cursor, order_ = s.order;
  }

 private:
  void new_pass() {
    ++epoch_;
    detail::shuffle_in_place(order_, rng_);
    cursor_ = 0;
  }

  Rng rng_;
  std::string what_, unit_;
  std::vector<int64_t> order_;
  std::size_t cursor_ = 0;
  int64_t epoch_ = 0;
};

// Cuts a token stream into windows of time+1 tokens (inputs and shifted targets), visiting the
// windows in a shuffled order that is reshuffled every epoch from the seed.
class LmBatcher {
 public:
  LmBatcher(std::vector<int32_t> stream, int64_t batch, int64_t time, uint64_t seed)
      : stream_(std::move(stream)),
        batch_(batch),
        time_(time),
        windows_(windows(stream_, batch, time), Rng(seed), "LmBatcher", "windows") {}

  int64_t windows_per_epoch() const { return windows_.size(); }
  int64_t epoch() const { return windows_.epoch(); }

  TokenBatch next() {
    TokenBatch batch;
    batch.batch = batch_, batch.time = time_;
    batch.inputs.resize(batch.size());
    batch.targets.resize(batch.size());
    batch.key_mask.assign(batch.size(), 1);
    for (int64_t b = 0; b < batch_; ++b) {
      const int64_t start = windows_.next() * time_;
      for (int64_t t = 0; t < time_; ++t) {
        batch.inputs[b * time_ + t] = stream_[start + t];
        batch.targets[b * time_ + t] = stream_[start + t + 1];
      }
    }
    assign_positions(batch);
    return batch;
  }

  // The saved order holds the windows' start offsets in the stream.
  BatcherState state() const {
    BatcherState s = windows_.state();
    for (int64_t& window : s.order) window *= time_;
    return s;
  }
  void set_state(BatcherState s) {
    for (int64_t& start : s.order) {
      TLCR_CHECK(start % time_ == 0, "LmBatcher: the saved window start ", start,
                 " is not a multiple of the window length ", time_);
      start /= time_;
    }
    windows_.set_state(s);
  }

 private:
  // The number of whole windows in the stream, after checking the sizes.
  static int64_t windows(const std::vector<int32_t>& stream, int64_t batch, int64_t time) {
    TLCR_CHECK(batch > 0 && time > 0, "LmBatcher: batch and time must be positive");
    TLCR_CHECK(static_cast<int64_t>(stream.size()) > time, "LmBatcher: the stream has ",
               stream.size(), " tokens, fewer than one window of ", time + 1);
    return (static_cast<int64_t>(stream.size()) - 1) / time;
  }

  std::vector<int32_t> stream_;
  int64_t batch_, time_;
  ShuffledOrder windows_;
};

// Serves shuffled batches of SequenceRows (SFT pairs, reward-model data), reshuffled every epoch.
class SequenceBatcher {
 public:
  SequenceBatcher(std::vector<SequenceRow> rows, int64_t batch, int64_t max_time, int32_t pad_token,
                  uint64_t seed)
      : rows_(checked(std::move(rows), batch)),
        batch_(batch),
        max_time_(max_time),
        pad_(pad_token),
        order_(static_cast<int64_t>(rows_.size()), Rng(seed), "SequenceBatcher", "rows") {}

  int64_t rows_per_epoch() const { return static_cast<int64_t>(rows_.size()); }

  TokenBatch next() {
    std::vector<SequenceRow> picked;
    for (int64_t b = 0; b < batch_; ++b) picked.push_back(rows_[order_.next()]);
    return make_sequence_batch(picked, max_time_, pad_, Padding::Right);
  }

  BatcherState state() const { return order_.state(); }
  void set_state(const BatcherState& s) { order_.set_state(s); }

 private:
  static std::vector<SequenceRow> checked(std::vector<SequenceRow> rows, int64_t batch) {
    TLCR_CHECK(!rows.empty() && batch > 0, "SequenceBatcher: need rows and a positive batch size");
    return rows;
  }

  std::vector<SequenceRow> rows_;
  int64_t batch_, max_time_;
  int32_t pad_;
  ShuffledOrder order_;
};

}  // namespace tlcr
