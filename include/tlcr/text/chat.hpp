// tlcr/text/chat.hpp — the "Human: … Assistant: …" format that SFT, reward models and RLHF share.
//
//   [BOS] "Human: " prompt "\n\nAssistant:"   " " response [EOS]
//   └──────────── prompt tokens ────────────┘ └── response tokens ──┘
//                                               ↑ response_start
//
// The prompt and the response are encoded separately, so the prompt's tokens are the same
// whether a response follows (SFT, reward data) or is about to be sampled (generation, PPO), and
// the response's tokens do not depend on the prompt (TLCR tokenizes responses on their own).
// The separator space opens the response, where GPT-2-style pre-tokenizers attach it to the
// first word. EOS, when added, is the last response token: the policy learns to emit it.
// Not here: batching and padding (rlhf/), multi-turn dialogues.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tlcr/text/bpe.hpp"

namespace tlcr {

// A prompt followed by a response, as one token sequence.
struct ChatTokens {
  std::vector<TokenId> ids;
  std::size_t response_start = 0;  // ids[response_start, ids.size()) is the response

  std::span<const TokenId> prompt() const { return std::span(ids).first(response_start); }
  std::span<const TokenId> response() const { return std::span(ids).subspan(response_start); }
};

struct ChatFormat {
  std::string human_prefix = "Human: ";
  std::string assistant_prefix = "\n\nAssistant:";
  std::string response_separator = " ";
  bool add_bos = true;  // the tokenizer must then have a BOS token
  bool add_eos = true;  // the tokenizer must then have an EOS token

  // The prompt as text: human_prefix + prompt + assistant_prefix.
  std::string prompt_text(std::string_view prompt) const {
    std::string text = human_prefix;
    text += prompt;
    text += assistant_prefix;
    return text;
  }

  // [BOS] + the prompt text: what generation starts from.
  std::vector<TokenId> encode_prompt(const BpeTokenizer& tokenizer, std::string_view prompt) const {
    std::vector<TokenId> ids;
    if (add_bos) ids.push_back(tokenizer.bos_id());
    const std::vector<TokenId> text_ids = tokenizer.encode(prompt_text(prompt));
    ids.insert(ids.end(), text_ids.begin(), text_ids.end());
    return ids;
  }

  // The separator + response text [+ EOS].
  std::vector<TokenId> encode_response(const BpeTokenizer& tokenizer,
                                       std::string_view response) const {
    std::vector<TokenId> ids =
        tokenizer.encode_continuation(response_separator + std::string(response));
    if (add_eos) ids.push_back(tokenizer.eos_id());
    return ids;
  }

  // Prompt tokens then response tokens, and where the response starts.
  ChatTokens encode(const BpeTokenizer& tokenizer, std::string_view prompt,
                    std::string_view response) const {
    ChatTokens chat;
    chat.ids = encode_prompt(tokenizer, prompt);
    chat.response_start = chat.ids.size();
    const std::vector<TokenId> response_ids = encode_response(tokenizer, response);
    chat.ids.insert(chat.ids.end(), response_ids.begin(), response_ids.end());
    return chat;
  }

  // The response text of sampled response tokens: everything before the first EOS or PAD,
  // without the leading separator.
  std::string decode_response(const BpeTokenizer& tokenizer,
                              std::span<const TokenId> response_ids) const {
    std::size_t end = 0;
    while (end < response_ids.size()) {
      const TokenId id = response_ids[end];
      if ((tokenizer.has_eos() && id == tokenizer.eos_id()) ||
          (tokenizer.has_pad() && id == tokenizer.pad_id()))
        break;
      ++end;
    }
    std::string text = tokenizer.decode(response_ids.first(end));
    if (text.starts_with(response_separator)) text.erase(0, response_separator.size());
    return text;
  }
};

}  // namespace tlcr
