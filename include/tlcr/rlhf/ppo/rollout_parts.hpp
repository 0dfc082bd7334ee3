// tlcr/rlhf/ppo/rollout_parts.hpp — a rollout computed in parts and joined again: how PPO shares
// its sampling and scoring out over the ranks of a Communicator and stays the same on any number.
//
// The batch's B prompts are cut into G parts (part p: rows part_range(p, B, G)); part p belongs
// to rank p mod size. Its owner samples, scores and rewards it alone (phases 1–3 of rollout.hpp),
// then every rank receives every part and joins them in part order, so all ranks hold the same
// rollout and shape it alike (phase 4). Two things make the result independent of the rank count:
//   - a part's computation depends only on its rows, never on which rank runs it;
//   - a part draws from the Rng its rows would have had in one whole-batch generate(): row b's
//     stream is the b-th split of the caller's Rng (generate/generate.hpp), so a part starting at
//     row b₀ starts from a copy advanced by b₀ splits, and the caller's Rng ends B splits on.
// G = 1 is exactly the one-process rollout of old. The wire format is a flat list of doubles
// (token ids and lengths are integers below 2³¹, exact in a double).
// Not here: the phases themselves (rollout.hpp), the communicator (dist/).
// Shape legend: B = rows, G = parts, N = response tokens.
#pragma once

#include <array>
#include <span>
#include <vector>

#include "tlcr/dist/communicator.hpp"
#include "tlcr/dist/data_parallel.hpp"
#include "tlcr/rlhf/ppo/rollout.hpp"

namespace tlcr {

namespace detail {
// The per-token vectors a part carries after phases 1–3, in wire order (R: Rollout or const).
template <class R>
auto scored_fields(R& r) {
  return std::array{&r.sampler_logprobs, &r.logprobs, &r.ref_logprobs, &r.values,
                    &r.entropy,          &r.kl_full,  &r.scores};
}
}  // namespace detail

// Appends a scored part to `out`: [rows, (length, ended) per row, the N tokens, then each of
// detail::scored_fields' N values].
inline void encode_rollout_part(const Rollout& part, std::vector<double>& out) {
  out.push_back(double(part.rows()));
  for (int64_t b = 0; b < part.rows(); ++b) {
    out.push_back(double(part.row_length(b)));
    out.push_back(double(part.ended[b]));
  }
  for (const auto& response : part.responses)
    out.insert(out.end(), response.begin(), response.end());
  for (const std::vector<double>* field : detail::scored_fields(part)) {
    TLCR_CHECK(int64_t(field->size()) == part.tokens(), "encode_rollout_part: a field has ",
               field->size(), " entries for ", part.tokens(), " tokens (score the part first)");
    out.insert(out.end(), field->begin(), field->end());
  }
}

// Reads one part from wire[at…] (advancing `at`) for the given prompts (its rows' prompts).
inline Rollout decode_rollout_part(std::span<const double> wire, std::size_t& at,
                                   TokenSequences prompts) {
  auto next = [&]() -> double {
    TLCR_CHECK(at < wire.size(), "decode_rollout_part: the part ends early, at entry ", at);
    return wire[at++];
  };
  Rollout r;
  const int64_t rows = int64_t(next());
  TLCR_CHECK(rows == int64_t(prompts.size()), "decode_rollout_part: ", rows, " rows for ",
             prompts.size(), " prompts");
  r.prompts = std::move(prompts);
  r.responses.resize(rows);
  r.offsets.push_back(0);
  for (int64_t b = 0; b < rows; ++b) {
    r.offsets.push_back(r.offsets.back() + int64_t(next()));
    r.ended.push_back(uint8_t(next()));
  }
  for (int64_t b = 0; b < rows; ++b)
    for (int64_t t = 0; t < r.row_length(b); ++t) r.responses[b].push_back(int32_t(next()));
  for (std::vector<double>* field : detail::scored_fields(r))
    for (int64_t i = 0; i < r.tokens(); ++i) field->push_back(next());
  return r;
}

// Phases 1–3 of a rollout of `prompts` in `parts` parts over the ranks of `comm`; returns the
// joined rollout on every rank. compute_part(TokenSequences prompts, Rng& rng) → Rollout runs the
// phases for one part's prompts, sampling from `rng`. `rng` ends B splits on, as after generate().
template <Communicator Comm, class ComputePart>
Rollout collect_rollout(const TokenSequences& prompts, int64_t parts, Rng& rng, const Comm& comm,
                        ComputePart&& compute_part) {
  const int64_t B = int64_t(prompts.size()), ranks = comm.size();
  TLCR_CHECK(parts >= 1 && parts <= B, "collect_rollout: ", parts, " parts for ", B, " prompts");
  auto prompts_of = [&](PartRange share) {
    return TokenSequences(prompts.begin() + share.begin, prompts.begin() + share.end);
  };
  std::vector<double> mine;  // this rank's parts, encoded one after another
  Rollout whole;
  for (int64_t p = comm.rank(); p < parts; p += ranks) {
    const PartRange share = part_range(p, B, parts);
    Rng part_rng = rng;
    for (int64_t b = 0; b < share.begin; ++b) part_rng.split();
    Rollout part = compute_part(prompts_of(share), part_rng);
    if (parts == 1 && ranks == 1)
      whole = std::move(part);
    else
      encode_rollout_part(part, mine);
  }
  for (int64_t b = 0; b < B; ++b) rng.split();
  if (parts == 1 && ranks == 1) return whole;

  const std::vector<std::vector<double>> wires =
      all_gather_varying(comm, std::span<const double>(mine));
  std::vector<std::size_t> read_at(ranks, 0);
  whole.offsets.push_back(0);
  for (int64_t p = 0; p < parts; ++p) {  // join in part order
    const int64_t owner = p % ranks;
    Rollout part =
        decode_rollout_part(wires[owner], read_at[owner], prompts_of(part_range(p, B, parts)));
    for (int64_t b = 0; b < part.rows(); ++b) {
      whole.prompts.push_back(std::move(part.prompts[b]));
      whole.responses.push_back(std::move(part.responses[b]));
      whole.ended.push_back(part.ended[b]);
      whole.offsets.push_back(whole.offsets.back() + part.row_length(b));
    }
    const auto from = detail::scored_fields(part);
    const auto to = detail::scored_fields(whole);
    for (std::size_t f = 0; f < from.size(); ++f)
      to[f]->insert(to[f]->end(), from[f]->begin(), from[f]->end());
  }
  return whole;
}

}  // namespace tlcr
