// Tests for ops/attention.hpp and autograd/fn/attention.hpp: the fused kernel against the naive
// reference with and without padding, fully padded rows, gradient checks in double, KV-cache
// offsets, thread-count independence and shape errors.
#include "support/testing.hpp"

#include <tlcr/autograd/fn/attention.hpp>
#include <tlcr/ops/attention.hpp>

#include <cstring>

using namespace tlcr;
using testing::random_normal;
using testing::random_size;

namespace {
// A (B, T) key mask: each key is padding with probability `pad_fraction`.
std::vector<uint8_t> random_key_mask(Rng& rng, int64_t batch, int64_t keys, double pad_fraction) {
  std::vector<uint8_t> mask(batch * keys);
  for (uint8_t& m : mask) m = rng.uniform() < pad_fraction ? 0 : 1;
  return mask;
}

// Rows [begin, begin + count) of axis 2 of a (B,H,T,D) tensor, copied.
template <class T>
Tensor<T> rows_of_axis2(const Tensor<T>& x, int64_t begin, int64_t count) {
  const int64_t B = x.dim(0), H = x.dim(1), T_ = x.dim(2), D = x.dim(3);
  Tensor<T> out({B, H, count, D});
  for (int64_t pair = 0; pair < B * H; ++pair)
    std::copy(x.data() + (pair * T_ + begin) * D, x.data() + (pair * T_ + begin + count) * D,
              out.data() + pair * count * D);
  return out;
}

bool all_finite(const Tensor<double>& t) {
  for (double v : t)
    if (!std::isfinite(v)) return false;
  return true;
}
// out, dq, dk, dv of forward + backward at `threads` threads (no padding, no offset).
std::vector<Tensor<float>> forward_backward(int threads, const Tensor<float>& q,
                                            const Tensor<float>& k, const Tensor<float>& v,
                                            const Tensor<float>& d_out,
                                            AttentionDropout dropout = {}) {
  ThreadCountGuard guard(threads);
  const Shape probs_shape{q.dim(0), q.dim(1), q.dim(2), k.dim(2)};
  Tensor<float> out(q.shape()), probs(probs_shape);
  Tensor<float> dq(q.shape()), dk(k.shape()), dv(v.shape());
  causal_attention_forward(out, &probs, q, k, v, std::span<const uint8_t>(), 0, dropout);
  causal_attention_backward(&dq, &dk, &dv, d_out, probs, q, k, v, 0, dropout);
  return {out, dq, dk, dv};
}

// Whether two results hold the same bits.
void check_same_bits(const std::vector<Tensor<float>>& one, const std::vector<Tensor<float>>& two) {
  for (std::size_t i = 0; i < one.size(); ++i)
    CHECK(std::memcmp(one[i].data(), two[i].data(), one[i].numel() * sizeof(float)) == 0);
}
}  // namespace

TEST_CASE("causal attention equals the naive reference, with and without padding") {
  Rng rng(300);
  for (int trial = 0; trial < 12; ++trial) {
    const int64_t B = random_size(rng, 1, 3), H = random_size(rng, 1, 3);
    const int64_t T = random_size(rng, 1, 24), D = random_size(rng, 1, 16);
    Tensor<float> q = random_normal<float>({B, H, T, D}, rng);
    Tensor<float> k = random_normal<float>({B, H, T, D}, rng);
    Tensor<float> v = random_normal<float>({B, H, T, D}, rng);
    const std::vector<uint8_t> mask = random_key_mask(rng, B, T, 0.3);
    for (bool padded : {false, true}) {
      std::span<const uint8_t> key_mask =
          padded ? std::span<const uint8_t>(mask) : std::span<const uint8_t>();
      Tensor<float> fast(q.shape()), unkept(q.shape()), slow(q.shape());
      Tensor<float> probs({B, H, T, T});
      causal_attention_forward(fast, &probs, q, k, v, key_mask);
      causal_attention_forward(unkept, static_cast<Tensor<float>*>(nullptr), q, k, v, key_mask);
      detail::causal_attention_ref(slow, q, k, v, key_mask);
      CAPTURE(B);
      CAPTURE(H);
      CAPTURE(T);
      CAPTURE(D);
      CAPTURE(padded);
      CHECK(testing::max_abs_diff(fast, slow) < 1e-5);
      CHECK(testing::max_abs_diff(unkept, fast) < 1e-6);
      // Probabilities: zero above the diagonal and on padded keys, rows sum to 1 or are all zero.
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t t = 0; t < T; ++t) {
            const float* row = probs.data() + ((b * H + h) * T + t) * T;
            double sum = 0;
            bool sees_a_key = false;
            for (int64_t s = 0; s < T; ++s) {
              const bool visible = s <= t && (!padded || mask[b * T + s] != 0);
              sees_a_key = sees_a_key || visible;
              if (!visible) CHECK(row[s] == 0.0f);
              sum += row[s];
            }
            CHECK(sum == doctest::Approx(sees_a_key ? 1.0 : 0.0).epsilon(1e-5));
          }
    }
  }
}

TEST_CASE("a query whose keys are all padded outputs 0 and gets a zero, finite gradient") {
  Rng rng(301);
  const int64_t B = 2, H = 2, T = 5, D = 3;
  // Left padding in batch row 0: queries 0 and 1 see only padded keys.
  std::vector<uint8_t> mask = {0, 0, 1, 1, 1, /* row 1 */ 1, 1, 1, 1, 1};
  auto q = parameter(random_normal<double>({B, H, T, D}, rng));
  auto k = parameter(random_normal<double>({B, H, T, D}, rng));
  auto v = parameter(random_normal<double>({B, H, T, D}, rng));
  auto out = causal_attention(q, k, v, mask);
  REQUIRE(all_finite(out.value()));
  for (int64_t h = 0; h < H; ++h)
    for (int64_t t : {0, 1})
      for (int64_t d = 0; d < D; ++d) CHECK(out.value()[((0 * H + h) * T + t) * D + d] == 0.0);
  backward(sum(out));
  CHECK(all_finite(q.grad()));
  CHECK(all_finite(k.grad()));
  CHECK(all_finite(v.grad()));
  for (int64_t h = 0; h < H; ++h)
    for (int64_t t : {0, 1})
      for (int64_t d = 0; d < D; ++d) {
        const int64_t i = ((0 * H + h) * T + t) * D + d;
        CHECK(q.grad()[i] == 0.0);  // the masked query rows
        CHECK(k.grad()[i] == 0.0);  // the padded keys
        CHECK(v.grad()[i] == 0.0);
      }
}

TEST_CASE("causal attention passes gradcheck for q, k and v") {
  Rng rng(302);
  for (int trial = 0; trial < 4; ++trial) {
    const int64_t B = random_size(rng, 1, 2), H = random_size(rng, 1, 2);
    const int64_t T = random_size(rng, 1, 6), D = random_size(rng, 1, 4);
    auto q = parameter(random_normal<double>({B, H, T, D}, rng));
    auto k = parameter(random_normal<double>({B, H, T, D}, rng));
    auto v = parameter(random_normal<double>({B, H, T, D}, rng));
    GradcheckOptions options;
    options.names = {"q", "k", "v"};
    TLCR_CHECK_GRADIENTS([&] { return causal_attention(q, k, v); }, {q, k, v}, options);
    std::vector<uint8_t> mask = random_key_mask(rng, B, T, 0.4);
    mask[0] = 0;  // query 0 of batch row 0 sees no key
    TLCR_CHECK_GRADIENTS([&] { return causal_attention(q, k, v, mask); }, {q, k, v}, options);
  }
}

TEST_CASE("KV-cache offsets: the newest queries equal the last rows of the full computation") {
  Rng rng(303);
  for (int trial = 0; trial < 6; ++trial) {
    const int64_t B = random_size(rng, 1, 3), H = random_size(rng, 1, 3);
    const int64_t T = random_size(rng, 2, 20), D = random_size(rng, 1, 8);
    const int64_t Tq = random_size(rng, 1, T), offset = T - Tq;
    Tensor<float> q = random_normal<float>({B, H, T, D}, rng);
    Tensor<float> k = random_normal<float>({B, H, T, D}, rng);
    Tensor<float> v = random_normal<float>({B, H, T, D}, rng);
    const std::vector<uint8_t> mask = random_key_mask(rng, B, T, 0.2);
    Tensor<float> full(q.shape());
    causal_attention_forward(full, static_cast<Tensor<float>*>(nullptr), q, k, v,
                             std::span<const uint8_t>(mask));
    const Tensor<float> newest_q = rows_of_axis2(q, offset, Tq);
    Tensor<float> newest(newest_q.shape()), reference(newest_q.shape());
    causal_attention_forward(newest, static_cast<Tensor<float>*>(nullptr), newest_q, k, v,
                             std::span<const uint8_t>(mask), offset);
    detail::causal_attention_ref(reference, newest_q, k, v, std::span<const uint8_t>(mask), offset);
    CAPTURE(T);
    CAPTURE(Tq);
    CHECK(testing::max_abs_diff(newest, rows_of_axis2(full, offset, Tq)) < 1e-5);
    CHECK(testing::max_abs_diff(newest, reference) < 1e-5);

    // A preallocated cache with garbage rows past offset + Tq gives the same result.
    const int64_t capacity = T + 3;
    Tensor<float> k_cache = random_normal<float>({B, H, capacity, D}, rng, 100.0);
    Tensor<float> v_cache = random_normal<float>({B, H, capacity, D}, rng, 100.0);
    std::vector<uint8_t> cache_mask(B * capacity, 1);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < T; ++s) {
        for (int64_t h = 0; h < H; ++h)
          for (int64_t d = 0; d < D; ++d) {
            k_cache[((b * H + h) * capacity + s) * D + d] = k[((b * H + h) * T + s) * D + d];
            v_cache[((b * H + h) * capacity + s) * D + d] = v[((b * H + h) * T + s) * D + d];
          }
        cache_mask[b * capacity + s] = mask[b * T + s];
      }
    Tensor<float> from_cache(newest_q.shape());
    Tensor<float> cache_probs({B, H, Tq, capacity});
    causal_attention_forward(from_cache, &cache_probs, newest_q, k_cache, v_cache,
                             std::span<const uint8_t>(cache_mask), offset);
    CHECK(testing::max_abs_diff(from_cache, newest) < 1e-5);
    for (int64_t row = 0; row < B * H * Tq; ++row)
      for (int64_t s = T; s < capacity; ++s) CHECK(cache_probs[row * capacity + s] == 0.0f);
  }
}

TEST_CASE("backward with an offset matches finite differences too") {
  Rng rng(304);
  const int64_t B = 2, H = 1, Tq = 2, Tk = 5, D = 3, offset = 2;  // one unused cache row
  auto q = parameter(random_normal<double>({B, H, Tq, D}, rng));
  auto k = parameter(random_normal<double>({B, H, Tk, D}, rng));
  auto v = parameter(random_normal<double>({B, H, Tk, D}, rng));
  std::vector<uint8_t> mask = {1, 0, 1, 1, 1, /* row 1 */ 0, 1, 1, 1, 1};
  TLCR_CHECK_GRADIENTS([&] { return causal_attention(q, k, v, mask, offset); }, {q, k, v});
}

TEST_CASE("long sequences (several query blocks) match the reference, padded and with an offset") {
  Rng rng(306);
  for (const int64_t T :
       {65, 150}) {  // one block and a 1-row block; three blocks, the last partial
    const int64_t B = 2, H = 2, D = 5;
    Tensor<float> q = random_normal<float>({B, H, T, D}, rng);
    Tensor<float> k = random_normal<float>({B, H, T, D}, rng);
    Tensor<float> v = random_normal<float>({B, H, T, D}, rng);
    const std::vector<uint8_t> mask = random_key_mask(rng, B, T, 0.25);
    Tensor<float> fast(q.shape()), slow(q.shape()), probs({B, H, T, T});
    causal_attention_forward(fast, &probs, q, k, v, std::span<const uint8_t>(mask));
    detail::causal_attention_ref(slow, q, k, v, std::span<const uint8_t>(mask));
    CHECK(testing::max_abs_diff(fast, slow) < 1e-5);
    for (int64_t row = 0; row < B * H * T; ++row)  // nothing above the diagonal
      for (int64_t s = row % T + 1; s < T; ++s) CHECK(probs[row * T + s] == 0.0f);

    const int64_t Tq = 70, offset = T - Tq;
    if (offset < 0) continue;
    const Tensor<float> newest_q = rows_of_axis2(q, offset, Tq);
    Tensor<float> newest(newest_q.shape()), reference(newest_q.shape());
    causal_attention_forward(newest, static_cast<Tensor<float>*>(nullptr), newest_q, k, v,
                             std::span<const uint8_t>(mask), offset);
    detail::causal_attention_ref(reference, newest_q, k, v, std::span<const uint8_t>(mask), offset);
    CHECK(testing::max_abs_diff(newest, reference) < 1e-5);
  }
}

TEST_CASE("gradients over several query blocks match finite differences") {
  Rng rng(307);
  const int64_t B = 1, H = 1, T = 70, D = 2;  // blocks of 64 and 6 queries
  auto q = parameter(random_normal<double>({B, H, T, D}, rng));
  auto k = parameter(random_normal<double>({B, H, T, D}, rng));
  auto v = parameter(random_normal<double>({B, H, T, D}, rng));
  std::vector<uint8_t> mask = random_key_mask(rng, B, T, 0.2);
  TLCR_CHECK_GRADIENTS([&] { return causal_attention(q, k, v, mask); }, {q, k, v});
}

TEST_CASE("the result does not depend on the thread count") {
  Rng rng(305);
  Tensor<float> q = random_normal<float>({2, 3, 17, 8}, rng);
  Tensor<float> k = random_normal<float>({2, 3, 17, 8}, rng);
  Tensor<float> v = random_normal<float>({2, 3, 17, 8}, rng);
  Tensor<float> d_out = random_normal<float>({2, 3, 17, 8}, rng);
  check_same_bits(forward_backward(1, q, k, v, d_out), forward_backward(2, q, k, v, d_out));
}

TEST_CASE("attention shape errors say what was expected") {
  Tensor<float> q({1, 2, 3, 4}), k({1, 2, 3, 4}), v({1, 2, 3, 4}), out({1, 2, 3, 4});
  Tensor<float> bad_k({1, 2, 3, 5}), short_k({1, 2, 2, 4});
  Tensor<float>* no_probs = nullptr;
  CHECK_THROWS_WITH_AS(causal_attention_forward(out, no_probs, q, bad_k, bad_k),
                       doctest::Contains("disagree on B, H or D"), Error);
  CHECK_THROWS_WITH_AS(causal_attention_forward(out, no_probs, q, k, bad_k),
                       doctest::Contains("shape mismatch: k [1, 2, 3, 4] vs v [1, 2, 3, 5]"),
                       Error);
  CHECK_THROWS_WITH_AS(causal_attention_forward(out, no_probs, q, short_k, short_k),
                       doctest::Contains("holds Tk = 2"), Error);
  CHECK_THROWS_WITH_AS(causal_attention_forward(out, no_probs, q, k, v, {}, 1),
                       doctest::Contains("offset 1 + Tq 3 needs that many keys"), Error);
  std::vector<uint8_t> mask(4, 1);
  CHECK_THROWS_WITH_AS(causal_attention_forward(out, no_probs, q, k, v, mask),
                       doctest::Contains("key mask holds 4 entries, expected B·Tk = 1·3 = 3"),
                       Error);
  Tensor<float> flat({2, 3, 4});
  CHECK_THROWS_WITH_AS(causal_attention_forward(out, no_probs, flat, flat, flat),
                       doctest::Contains("expected q, k, v of rank 4 (B,H,T,D)"), Error);
}

TEST_CASE("attention dropout: out = (P ⊙ M)·V with M drawn from the flat (pair, t, s) index") {
  Rng rng(308);
  const int64_t B = 2, H = 2, T = 70, D = 3;  // two query blocks
  Tensor<double> q = random_normal<double>({B, H, T, D}, rng);
  Tensor<double> k = random_normal<double>({B, H, T, D}, rng);
  Tensor<double> v = random_normal<double>({B, H, T, D}, rng);
  const std::vector<uint8_t> mask = random_key_mask(rng, B, T, 0.2);
  const AttentionDropout dropout{0.3, 77};
  Tensor<double> out(q.shape()), probs({B, H, T, T});
  causal_attention_forward(out, &probs, q, k, v, std::span<const uint8_t>(mask), 0, dropout);
  // The reference: P from the kernel without dropout, the mask entry by entry, then the product.
  Tensor<double> plain(q.shape()), plain_probs({B, H, T, T});
  causal_attention_forward(plain, &plain_probs, q, k, v, std::span<const uint8_t>(mask));
  CHECK(testing::max_abs_diff(probs, plain_probs) == 0.0);  // probs are kept before dropout
  double largest_change = 0;
  int64_t dropped = 0, visible = 0;
  for (int64_t pair = 0; pair < B * H; ++pair)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t d = 0; d < D; ++d) {
        double expected = 0;
        for (int64_t s = 0; s < T; ++s) {
          const uint64_t index = uint64_t((pair * T + t) * T + s);
          const double p = plain_probs[(pair * T + t) * T + s];
          const bool drop = dropout_drops(77, index, 0.3);
          if (d == 0 && p > 0) ++visible, dropped += drop;
          expected += (drop ? 0.0 : p / 0.7) * v[(pair * T + s) * D + d];
        }
        const double got = out[(pair * T + t) * D + d];
        CHECK(got == doctest::Approx(expected).epsilon(1e-12));
        largest_change = std::max(largest_change, std::abs(got - plain[(pair * T + t) * D + d]));
      }
  CHECK(largest_change > 0.1);  // dropout changed the output
  CHECK(std::abs(double(dropped) / double(visible) - 0.3) < 0.03);
}

TEST_CASE("attention dropout passes gradcheck and does not depend on the thread count") {
  Rng rng(309);
  for (int trial = 0; trial < 3; ++trial) {
    const int64_t B = random_size(rng, 1, 2), H = random_size(rng, 1, 2);
    const int64_t T = trial == 2 ? 67 : random_size(rng, 2, 7), D = random_size(rng, 1, 3);
    auto q = parameter(random_normal<double>({B, H, T, D}, rng));
    auto k = parameter(random_normal<double>({B, H, T, D}, rng));
    auto v = parameter(random_normal<double>({B, H, T, D}, rng));
    const std::vector<uint8_t> mask = random_key_mask(rng, B, T, 0.3);
    GradcheckOptions options;
    options.names = {"q", "k", "v"};
    TLCR_CHECK_GRADIENTS(
        [&] {
          return causal_attention(q, k, v, mask, 0, AttentionDropout{0.4, 5 + uint64_t(trial)});
        },
        {q, k, v}, options);
  }
  Tensor<float> q = random_normal<float>({2, 3, 70, 8}, rng);
  Tensor<float> k = random_normal<float>({2, 3, 70, 8}, rng);
  Tensor<float> v = random_normal<float>({2, 3, 70, 8}, rng);
  Tensor<float> d_out = random_normal<float>({2, 3, 70, 8}, rng);
  const AttentionDropout dropout{0.2, 3};
  check_same_bits(forward_backward(1, q, k, v, d_out, dropout),
                  forward_backward(2, q, k, v, d_out, dropout));
}
