// tlcr/core/rng.hpp — a deterministic, splittable pseudo-random generator.
//
// Rng is xoshiro256** seeded through SplitMix64. Integer output, uniform floats and categorical
// draws use only integer arithmetic and exact conversions, so they are bit-identical on every
// platform and compiler. normal() is Box–Muller in double; it is identical wherever the C library's
// log/cos/sin are correctly rounded (glibc is). No std::*_distribution is used anywhere: their
// algorithms differ between standard libraries.
// counter_hash / counter_uniform are the stateless side: a draw that is a pure function of (seed,
// index), so elements can be drawn in any order, on any thread or device, and drawn again in a
// backward pass instead of being stored (dropout masks).
// Not here: filling tensors with draws (nn/parameter_store.hpp initialisers, ops/dropout.hpp).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "tlcr/config.hpp"

namespace tlcr {

// 64 bits that depend on every bit of seed and counter: SplitMix64's finaliser applied to the
// counter-th step of a SplitMix64 sequence started at `seed`.
TLCR_HOST_DEVICE constexpr uint64_t counter_hash(uint64_t seed, uint64_t counter) {
  uint64_t z = seed + (counter + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
// Uniform double in [0, 1) with 53 bits, a pure function of (seed, counter).
TLCR_HOST_DEVICE constexpr double counter_uniform(uint64_t seed, uint64_t counter) {
  return static_cast<double>(counter_hash(seed, counter) >> 11) * 0x1.0p-53;
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0, uint64_t stream = 0) { reseed(seed, stream); }

  void reseed(uint64_t seed, uint64_t stream = 0) {
    uint64_t mixer = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (auto& word : state_) word = splitmix64(mixer);
    has_spare_normal_ = false;
  }

  // 64 random bits (xoshiro256**).
  uint64_t next_u64() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t shifted = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= shifted;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // A new, statistically independent generator; advances this one by one draw.
  Rng split() { return Rng(next_u64(), 0x9E3779B97F4A7C15ull); }

  // Uniform integer in [0, n), unbiased (rejection of the short last bucket).
  uint64_t uniform_int(uint64_t n) {
    TLCR_CHECK(n > 0, "Rng::uniform_int: empty range");
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t bits;
    do bits = next_u64();
    while (bits >= limit);
    return bits % n;
  }
  // Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform in [low, high).
  double uniform(double low, double high) { return low + (high - low) * uniform(); }

  // Standard normal (Box–Muller; the second value of each pair is kept for the next call).
  double normal() {
    if (has_spare_normal_) {
      has_spare_normal_ = false;
      return spare_normal_;
    }
    const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 6.283185307179586 * u2;
    spare_normal_ = radius * std::sin(angle);
    has_spare_normal_ = true;
    return radius * std::cos(angle);
  }
  double normal(double mean, double stddev) { return mean + stddev * normal(); }

  // Index drawn with probability proportional to weights[i] (weights ≥ 0, not all 0).
  template <class W>
  int64_t categorical(std::span<const W> weights) {
    double total = 0;
    for (W w : weights) total += static_cast<double>(w);
    TLCR_CHECK(total > 0 && std::isfinite(total), "Rng::categorical: weights sum to ", total);
    const double target = uniform() * total;
    double running = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      running += static_cast<double>(weights[i]);
      if (target < running) return static_cast<int64_t>(i);
    }
    // Rounding can leave target == total: return the last index with positive weight.
    for (std::size_t i = weights.size(); i-- > 0;)
      if (weights[i] > 0) return static_cast<int64_t>(i);
    return 0;
  }

  // Full state, for checkpoints: 4 state words, the spare-normal flag and the spare value's bits.
  std::array<uint64_t, 6> state() const {
    uint64_t spare_bits;
    static_assert(sizeof(spare_bits) == sizeof(spare_normal_));
    std::memcpy(&spare_bits, &spare_normal_, sizeof spare_bits);
    return {state_[0], state_[1], state_[2], state_[3], has_spare_normal_ ? 1ull : 0ull,
            spare_bits};
  }
  void set_state(const std::array<uint64_t, 6>& saved) {
    for (int i = 0; i < 4; ++i) state_[i] = saved[i];
    has_spare_normal_ = saved[4] != 0;
    std::memcpy(&spare_normal_, &saved[5], sizeof spare_normal_);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  std::array<uint64_t, 4> state_{};
  bool has_spare_normal_ = false;
  double spare_normal_ = 0;
};

}  // namespace tlcr
