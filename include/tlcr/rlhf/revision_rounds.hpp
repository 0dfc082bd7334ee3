// tlcr/rlhf/revision_rounds.hpp — on-policy revision rounds (beyond the paper): the discriminator
// keeps learning from the policy's own samples while PPO runs.
//
// TLCR trains its discriminator once, on revisions of the preference data's rejected responses.
// PPO then moves the policy to responses that data never showed, and a small discriminator can be
// fooled there (our demo's policy learns to repeat a polite phrase that scores p ≈ 0.7 anywhere).
// A round, every `every` PPO iterations:
//   1. the latest rollout's responses (up to max_responses) go to the reviser with their prompts;
//   2. each (response, revision) pair is aligned into token labels (rlhf/labels.hpp: Levenshtein,
//      as for the original data); the response plays the rejected side, there is no chosen one;
//   3. the discriminator continues training, in place, on the original labels plus every round's
//      (a fresh AdamW and schedule per round: train_discriminator with options.train, the order
//      seeded by seed + round);
//   4. PPO continues with the updated reward: the reward holds the same model.
// Before step 3, the round measures how well the discriminator predicted the reviser's labels on
// the policy's samples (balanced accuracy "before"): a falling number is a hack in progress.
// The reviser is pluggable: the built-in task's (rlhf/task/revision.hpp) or any program
// (external_reviser): stdin one {"prompt","response"} JSON object per line, stdout one
// {"revised": "..."} object per line, same order, exit status 0 — the strong LM a real user calls.
// State (the discriminator's weights, every round's labels, the round count) goes into PPO's
// checkpoint (save/resume), so a resumed run continues bit for bit. Under several MPI ranks every
// rank runs each round alike (the reviser runs once per rank).
// Not here: PPO (ppo/trainer.hpp, which calls after_iteration through PpoRunOptions), the
// discriminator's training loop (discriminator.hpp), labels (labels.hpp, edit_labels.hpp).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlcr/io/run_command.hpp"
#include "tlcr/rlhf/discriminator.hpp"
#include "tlcr/rlhf/labels.hpp"
#include "tlcr/rlhf/ppo/rollout.hpp"

namespace tlcr {

struct RevisionRequest {
  std::string prompt, response;
};

// Returns the minimal-edit revision of each request's response, in order.
struct Reviser {
  std::string name;
  std::function<std::vector<std::string>(const std::vector<RevisionRequest>&)> revise;
};

// A program as a reviser (the protocol is in the file comment).
inline Reviser external_reviser(const std::string& command) {
  return {command, [command](const std::vector<RevisionRequest>& requests) {
            std::string input;
            for (const RevisionRequest& r : requests)
              input += nlohmann::json{{"prompt", r.prompt}, {"response", r.response}}.dump(
                           -1, ' ', false, nlohmann::json::error_handler_t::replace) +
                       "\n";
            const std::vector<std::string> lines = split_lines(run_command(
                command, input, "reviser",
                "read {\"prompt\",\"response\"} JSONL on stdin and print one {\"revised\": ...} "
                "object per line"));
            TLCR_CHECK(lines.size() == requests.size(), "reviser '", command, "': expected ",
                       requests.size(), " revisions (one per input line), found ", lines.size());
            std::vector<std::string> revised;
            for (std::size_t i = 0; i < lines.size(); ++i) {
              nlohmann::json value;
              try {
                value = nlohmann::json::parse(lines[i]);
              } catch (const nlohmann::json::exception&) {
              }
              if (!value.is_object() || !value.contains("revised") || !value["revised"].is_string())
                detail::fail("reviser '", command, "': line ", i + 1,
                             " of its output: expected {\"revised\": \"...\"}, found '",
                             lines[i].substr(0, 60), "'");
              revised.push_back(value["revised"].get<std::string>());
            }
            return revised;
          }};
}

struct RevisionRoundOptions {
  int64_t every = 0;          // a round after every `every` PPO iterations; 0 = never
  int64_t max_responses = 0;  // responses of the latest rollout revised per round; 0 = all
  DiscriminatorTrainOptions train{.max_steps = 40, .warmup_steps = 5, .progress = false};
};

template <class T, class Arch, class D = Cpu>
class RevisionRounds {
 public:
  // `discriminator`: the model the reward reads (trained in place). `prompts`: the PPO prompt
  // texts, to recover a rollout row's text from its tokens. `original`: the labels the
  // discriminator was trained on.
  RevisionRounds(std::shared_ptr<Transformer<T, Arch, D>> discriminator,
                 const BpeTokenizer& tokenizer, const std::vector<std::string>& prompts,
                 std::vector<PromptLabelRecord> original, Reviser reviser,
                 RevisionRoundOptions options, ChatFormat format = {})
      : model_(std::move(discriminator)),
        tokenizer_(tokenizer),
        format_(format),
        ends_(ResponseEnds::of(tokenizer)),
        original_(std::move(original)),
        reviser_(std::move(reviser)),
        options_(options) {
    TLCR_CHECK(model_ != nullptr, "RevisionRounds: no discriminator");
    detail::check_discriminator(model_->heads(), "RevisionRounds");
    TLCR_CHECK(options_.every >= 0 && options_.max_responses >= 0,
               "RevisionRounds: every and max_responses must be ≥ 0, got ", options_.every, " and ",
               options_.max_responses);
    TLCR_CHECK(!original_.empty(), "RevisionRounds: no original labels to keep training on");
    for (const std::string& prompt : prompts)
      prompt_text_.emplace(format_.encode_prompt(tokenizer_, prompt), prompt);
  }

  int64_t rounds() const { return rounds_; }
  const std::vector<PromptLabelRecord>& round_labels() const { return round_labels_; }

  // After PPO iteration `iteration` (1-based): when a round is due, runs it on `rollout` and adds
  // its summary to `metrics` ("revision/…" keys).
  void after_iteration(int64_t iteration, const Rollout& rollout, nlohmann::json& metrics) {
    if (options_.every <= 0 || iteration % options_.every != 0) return;
    const int64_t rows = options_.max_responses > 0
                             ? std::min(options_.max_responses, rollout.rows())
                             : rollout.rows();
    std::vector<RevisionRequest> requests;
    for (int64_t b = 0; b < rows; ++b) {
      const auto found = prompt_text_.find(rollout.prompts[b]);
      TLCR_CHECK(found != prompt_text_.end(), "revision round: rollout row ", b,
                 " has a prompt that is not among the PPO prompts given to RevisionRounds");
      const std::vector<int32_t>& response = rollout.responses[b];
      const std::size_t scored = ends_.scored_length(response);
      requests.push_back({found->second, tokenizer_.decode(std::span(response).first(scored))});
    }
    const std::vector<std::string> revised = reviser_.revise(requests);
    TLCR_CHECK(revised.size() == requests.size(), "reviser '", reviser_.name, "' returned ",
               revised.size(), " revisions for ", requests.size(), " responses");
    std::vector<PromptLabelRecord> fresh;
    int64_t changed = 0, edited_tokens = 0, tokens = 0;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      fresh.push_back(label_revision(
          tokenizer_, RevisionRecord{requests[i].prompt, "", requests[i].response, revised[i]},
          format_));
      changed += revised[i] != requests[i].response;
      for (char op : fresh.back().labels.rejected_ops) edited_tokens += op != 'U', ++tokens;
    }
    round_labels_.insert(round_labels_.end(), fresh.begin(), fresh.end());
    ++rounds_;

    std::vector<PromptLabelRecord> all = original_;
    all.insert(all.end(), round_labels_.begin(), round_labels_.end());
    DiscriminatorTrainOptions train = options_.train;
    train.seed = options_.train.seed + uint64_t(rounds_);
    train.label = "revision round " + std::to_string(rounds_);
    const DiscriminatorReport report =
        train_discriminator(*model_, make_discriminator_examples(tokenizer_, all, format_),
                            make_discriminator_examples(tokenizer_, fresh, format_), ends_, train);
    metrics["revision/round"] = rounds_;
    metrics["revision/responses"] = int64_t(requests.size());
    metrics["revision/changed"] = changed;
    metrics["revision/edited_token_share"] = tokens > 0 ? double(edited_tokens) / tokens : 0.0;
    metrics["revision/balanced_acc_before"] = report.before.balanced_accuracy;
    metrics["revision/balanced_acc_after"] = report.after.balanced_accuracy;
    metrics["revision/loss"] = report.last_loss;
  }

  // The state a resumed run needs, into `dir` (inside PPO's checkpoint directory).
  void save(const std::filesystem::path& dir) const {
    std::filesystem::create_directories(dir);
    save_model(dir / "discriminator", *model_);
    write_labels(dir / "round_labels.jsonl", round_labels_);
    write_file_atomically(dir / "state.json", nlohmann::json{{"rounds", rounds_}}.dump() + "\n");
  }
  void resume(const std::filesystem::path& dir) {
    TLCR_CHECK(std::filesystem::exists(dir / "state.json"), dir.string(),
               ": no revision-round state (the checkpoint was written without revision rounds)");
    load_weights(*model_, dir / "discriminator");
    round_labels_ = read_labels(dir / "round_labels.jsonl").records;
    rounds_ = state_integer(read_json_file(dir / "state.json"), "rounds");
  }

 private:
  std::shared_ptr<Transformer<T, Arch, D>> model_;
  const BpeTokenizer& tokenizer_;
  ChatFormat format_;
  ResponseEnds ends_;
  std::vector<PromptLabelRecord> original_, round_labels_;
  Reviser reviser_;
  RevisionRoundOptions options_;
  std::map<std::vector<int32_t>, std::string> prompt_text_;
  int64_t rounds_ = 0;
};

}  // namespace tlcr
