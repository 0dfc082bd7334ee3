// tlcr/rlhf/reward_data.hpp — the plumbing every reward model shares: where a response ends,
// padded (prompt + response) batches, held-out splits, tokenized preference pairs, reward-model
// directories (a trunk taken from an SFT model, extra metadata in config.json).
//
// A response, as PPO hands it over, is a row of token ids that may end in EOS and may be followed
// by padding. Its *scored* tokens are those before the first EOS or PAD; everything from there on
// gets reward 0. Prompts are the ids of ChatFormat::encode_prompt ([BOS] "Human: … Assistant:"),
// responses those of ChatFormat::encode_response (separator + text [+ EOS]).
// Not here: the losses and models (discriminator.hpp, sequence_reward.hpp), the reward formulas
// (rewards.hpp).
// Shape legend: B = rows of a batch, T = padded time (prompt + response tokens, right padding).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlcr/core/rng.hpp"
#include "tlcr/io/jsonl.hpp"
#include "tlcr/io/model_dir.hpp"
#include "tlcr/rlhf/records.hpp"
#include "tlcr/rlhf/token_reward.hpp"
#include "tlcr/text/chat.hpp"
#include "tlcr/train/batches.hpp"

namespace tlcr {

// The token ids that end a response: EOS and PAD; −1 = the tokenizer has no such token.
struct ResponseEnds {
  int32_t eos = -1;
  int32_t pad = -1;

  static ResponseEnds of(const BpeTokenizer& tokenizer) {
    return {tokenizer.has_eos() ? tokenizer.eos_id() : -1,
            tokenizer.has_pad() ? tokenizer.pad_id() : -1};
  }
  bool is_end(int32_t id) const { return id == eos || id == pad; }
  // The id written into padding positions (masked out, so any valid id would do).
  int32_t filler() const { return pad >= 0 ? pad : eos >= 0 ? eos : 0; }

  // Tokens before the first EOS or PAD: the ones a dense reward scores.
  std::size_t scored_length(std::span<const int32_t> response) const {
    std::size_t n = 0;
    while (n < response.size() && !is_end(response[n])) ++n;
    return n;
  }
  // Scored tokens plus a terminating EOS, if there is one: what a sequence model reads.
  std::size_t length_with_eos(std::span<const int32_t> response) const {
    const std::size_t n = scored_length(response);
    return n < response.size() && response[n] == eos && eos >= 0 ? n + 1 : n;
  }
};

// Rows of prompt + response tokens, right-padded, and where each response sits.
struct PromptResponseBatch {
  TokenBatch tokens;                     // (B·T) inputs, key mask, positions; targets unused
  std::vector<int64_t> response_start;   // (B) index of the row's first response token
  std::vector<int64_t> response_length;  // (B) response tokens in the row

  // Flat index of response token i of row b in (B·T).
  int64_t at(int64_t b, int64_t i) const { return b * tokens.time + response_start[b] + i; }
};

// Pads (prompt, first response_lengths[b] response tokens) rows. Throws when a row does not fit
// in `context` positions, naming `who` and the row.
inline PromptResponseBatch make_prompt_response_batch(
    std::span<const std::vector<int32_t>> prompts, std::span<const std::vector<int32_t>> responses,
    std::span<const std::size_t> response_lengths, int64_t context, int32_t filler,
    const std::string& who) {
  TLCR_CHECK(prompts.size() == responses.size() && responses.size() == response_lengths.size(), who,
             ": ", prompts.size(), " prompts, ", responses.size(), " responses and ",
             response_lengths.size(), " lengths");
  TLCR_CHECK(!prompts.empty(), who, ": no rows");
  PromptResponseBatch batch;
  std::vector<SequenceRow> rows(prompts.size());
  for (std::size_t b = 0; b < prompts.size(); ++b) {
    const std::size_t length = response_lengths[b];
    TLCR_CHECK(length <= responses[b].size(), who, ": row ", b, " asks for ", length,
               " response tokens of ", responses[b].size());
    const int64_t total = static_cast<int64_t>(prompts[b].size() + length);
    TLCR_CHECK(total <= context, who, ": row ", b, " has ", prompts[b].size(), " prompt + ", length,
               " response tokens, more than the model's context of ", context);
    rows[b].tokens = prompts[b];
    rows[b].tokens.insert(rows[b].tokens.end(), responses[b].begin(),
                          responses[b].begin() + static_cast<std::ptrdiff_t>(length));
    batch.response_start.push_back(static_cast<int64_t>(prompts[b].size()));
    batch.response_length.push_back(static_cast<int64_t>(length));
  }
  batch.tokens = make_sequence_batch(rows, context, filler, Padding::Right);
  return batch;
}

// Checks that every id of `ids` is a token of a vocabulary of `vocab` ids.
inline void check_token_ids(std::span<const int32_t> ids, int64_t vocab, const std::string& where) {
  for (std::size_t i = 0; i < ids.size(); ++i)
    TLCR_CHECK(ids[i] >= 0 && ids[i] < vocab, where, ": token ", ids[i], " at position ", i,
               " is outside the vocabulary [0, ", vocab, ")");
}

// ---- data ------------------------------------------------------------------------------------

// Splits items into (train, held_out): a seeded shuffle picks round(fraction · n) held-out items
// (at least one when fraction > 0 and n ≥ 2); both parts keep the original order.
template <class Item>
std::pair<std::vector<Item>, std::vector<Item>> split_held_out(const std::vector<Item>& items,
                                                               double fraction, uint64_t seed) {
  TLCR_CHECK(fraction >= 0 && fraction < 1, "split_held_out: fraction must be in [0, 1), found ",
             fraction);
  std::vector<int64_t> order(items.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  Rng rng(seed, 7);
  detail::shuffle_in_place(order, rng);
  std::size_t held = static_cast<std::size_t>(std::llround(fraction * double(items.size())));
  if (fraction > 0 && items.size() >= 2) held = std::clamp<std::size_t>(held, 1, items.size() - 1);
  std::vector<bool> is_held(items.size(), false);
  for (std::size_t i = 0; i < held; ++i) is_held[order[i]] = true;
  std::pair<std::vector<Item>, std::vector<Item>> parts;
  for (std::size_t i = 0; i < items.size(); ++i)
    (is_held[i] ? parts.second : parts.first).push_back(items[i]);
  return parts;
}

// A preference pair as token ids: the prompt as generation sees it, both responses as the policy
// would emit them (separator + text, EOS when the format adds one).
struct TokenizedPair {
  std::vector<int32_t> prompt, chosen, rejected;
};

inline TokenizedPair tokenize_preference(const BpeTokenizer& tokenizer, const ChatFormat& format,
                                         const PreferenceRecord& record) {
  return {format.encode_prompt(tokenizer, record.prompt),
          format.encode_response(tokenizer, record.chosen),
          format.encode_response(tokenizer, record.rejected)};
}

inline std::vector<TokenizedPair> tokenize_preferences(const BpeTokenizer& tokenizer,
                                                       const ChatFormat& format,
                                                       std::span<const PreferenceRecord> records) {
  std::vector<TokenizedPair> pairs;
  pairs.reserve(records.size());
  for (const PreferenceRecord& record : records)
    pairs.push_back(tokenize_preference(tokenizer, format, record));
  return pairs;
}

// ---- model directories -----------------------------------------------------------------------

// True for the parameters of the heads (LM, value, classifier, sequence score).
template <class Arch>
bool is_head_parameter(const std::string& name) {
  return name == Arch::lm_head() + ".weight" || name.starts_with("v_head.") ||
         name.starts_with("score.");
}

// A model with the trunk of the model stored in `dir` (an SFT model, say) and the given heads,
// freshly initialised from `seed`. Works whatever heads the stored model has (tied or untied LM
// head, a value head, another classifier), because only trunk parameters are copied.
// On a device the trunk is copied device to device.
template <class T, class Arch, class D = Cpu>
Transformer<T, Arch, D> model_with_trunk_of(const std::filesystem::path& dir,
                                            const HeadConfig& heads, uint64_t seed) {
  const Transformer<T, Arch, D> source = load_model<T, Arch, D>(dir);
  Transformer<T, Arch, D> model(source.config(), heads, seed);
  for (const auto& p : model.params().parameters()) {
    if (is_head_parameter<Arch>(p.name)) continue;
    TLCR_CHECK(source.params().contains(p.name), "model_with_trunk_of: ", dir.string(),
               " has no trunk parameter '", p.name, "'");
    Var<T, D>(p.var).value().copy_from(source.params().get(p.name).value());
  }
  return model;
}

// config.json's "tlcr_reward" object: what a reward-model directory holds beyond the weights
// (its kind, training options, score normalisation). Other readers ignore the key.
inline void write_reward_metadata(const std::filesystem::path& dir,
                                  const nlohmann::json& metadata) {
  nlohmann::json config = read_json_file(dir / "config.json");
  config["tlcr_reward"] = metadata;
  write_file_atomically(dir / "config.json", config.dump(2) + "\n");
}

inline std::optional<nlohmann::json> read_reward_metadata(const std::filesystem::path& dir) {
  const nlohmann::json config = read_json_file(dir / "config.json");
  if (!config.contains("tlcr_reward")) return std::nullopt;
  return config["tlcr_reward"];
}

// The kind a reward-model directory declares ("token_discriminator", "bradley_terry"), or "".
inline std::string reward_model_kind(const std::filesystem::path& dir) {
  const auto metadata = read_reward_metadata(dir);
  return metadata && metadata->contains("kind") && (*metadata)["kind"].is_string()
             ? (*metadata)["kind"].get<std::string>()
             : std::string();
}

}  // namespace tlcr
