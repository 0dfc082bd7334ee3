// Tests for models/token_batch.hpp: positions count each row's real tokens from 0 and skip
// padding; target_count skips ignored targets.
#include "support/testing.hpp"

using namespace tlcr;

TEST_CASE("assign_positions skips padding on either side; target_count skips kIgnoreIndex") {
  TokenBatch batch;
  batch.batch = 2, batch.time = 4;
  batch.key_mask = {0, 0, 1, 1, 1, 1, 1, 0};  // left-padded row, right-padded row
  batch.targets = {kIgnoreIndex, kIgnoreIndex, 5, 6, 1, kIgnoreIndex, 2, kIgnoreIndex};
  assign_positions(batch);
  CHECK(batch.positions == std::vector<int32_t>{0, 0, 0, 1, 0, 1, 2, 0});
  CHECK(batch.target_count() == 4);
}
