// tlcr/rlhf/edit_labels.hpp — token labels from a minimal-edit revision (Yoon et al. 2024,
// Fig. 2a: Levenshtein alignment of the rejected response with its revision).
//
// A rejected response y_r and its revision y_m are tokenized separately and aligned by unit-cost
// Levenshtein dynamic programming. Each token gets one operation letter:
//   rejected side:  U kept, S substituted, D deleted   → label 0, −1, −1
//   revised side:   U kept, S substituted, A added     → label 0, +1, +1
// The alignment is the one the TLCR reference fixes, so labels match it token for token:
//   - equal tokens take the diagonal unconditionally (U);
//   - otherwise cost = 1 + min(delete, add, substitute), and the backtrace, walking from the end,
//     prefers delete, then add, then substitute among the moves that reach the minimum.
// Example: rejected "a b", revised "b a" → rejected ops "UD", revised ops "AU".
// Not here: tokenization, the discriminator loss that consumes the labels (see discriminator.hpp).
//
// Sizes: m = rejected tokens, n = revised tokens; the table is (m+1)·(n+1) 32-bit integers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <ranges>
#include <string>
#include <string_view>
#include <vector>

#include "tlcr/config.hpp"

namespace tlcr {

// One aligned pair: an op letter and a label per token on each side.
struct EditLabels {
  std::string rejected_ops;             // 'U' | 'S' | 'D', one per rejected token
  std::string revised_ops;              // 'U' | 'S' | 'A', one per revised token
  std::vector<int8_t> rejected_labels;  // 0 for U, −1 for S and D
  std::vector<int8_t> revised_labels;   // 0 for U, +1 for S and A
  int64_t distance = 0;                 // Levenshtein distance = #D + #A + #S (each S counted once)
};

// Labels of the rejected side from its op string; throws on letters other than U, S, D.
inline std::vector<int8_t> rejected_token_labels(std::string_view rejected_ops) {
  std::vector<int8_t> labels(rejected_ops.size());
  for (std::size_t i = 0; i < rejected_ops.size(); ++i) {
    const char op = rejected_ops[i];
    TLCR_CHECK(op == 'U' || op == 'S' || op == 'D',
               "rejected_token_labels: expected U, S or D, found '", op, "' at position ", i);
    labels[i] = op == 'U' ? 0 : -1;
  }
  return labels;
}

// Labels of the revised side from its op string; throws on letters other than U, S, A.
inline std::vector<int8_t> revised_token_labels(std::string_view revised_ops) {
  std::vector<int8_t> labels(revised_ops.size());
  for (std::size_t i = 0; i < revised_ops.size(); ++i) {
    const char op = revised_ops[i];
    TLCR_CHECK(op == 'U' || op == 'S' || op == 'A',
               "revised_token_labels: expected U, S or A, found '", op, "' at position ", i);
    labels[i] = op == 'U' ? 0 : 1;
  }
  return labels;
}

// Aligns any two sequences of comparable tokens (token ids, words).
template <std::ranges::random_access_range Rejected, std::ranges::random_access_range Revised>
EditLabels edit_labels(const Rejected& rejected, const Revised& revised) {
  const auto rej = std::ranges::begin(rejected);
  const auto rev = std::ranges::begin(revised);
  const std::size_t m = std::ranges::size(rejected), n = std::ranges::size(revised);
  const std::size_t width = n + 1;

  // cost[i * width + j] = edit distance between the first i rejected and first j revised tokens.
  std::vector<int32_t> cost((m + 1) * width);
  auto at = [&](std::size_t i, std::size_t j) -> int32_t& { return cost[i * width + j]; };
  for (std::size_t i = 0; i <= m; ++i) at(i, 0) = static_cast<int32_t>(i);
  for (std::size_t j = 0; j <= n; ++j) at(0, j) = static_cast<int32_t>(j);
  for (std::size_t i = 1; i <= m; ++i) {
    for (std::size_t j = 1; j <= n; ++j) {
      if (rej[i - 1] == rev[j - 1]) {
        at(i, j) = at(i - 1, j - 1);
      } else {
        at(i, j) = 1 + std::min({at(i - 1, j), at(i, j - 1), at(i - 1, j - 1)});
      }
    }
  }

  EditLabels out;
  out.distance = at(m, n);
  out.rejected_ops.assign(m, '?');
  out.revised_ops.assign(n, '?');
  std::size_t i = m, j = n;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && rej[i - 1] == rev[j - 1]) {
      out.rejected_ops[--i] = 'U';
      out.revised_ops[--j] = 'U';
    } else if (i > 0 && (j == 0 || at(i, j) == at(i - 1, j) + 1)) {
      out.rejected_ops[--i] = 'D';
    } else if (j > 0 && (i == 0 || at(i, j) == at(i, j - 1) + 1)) {
      out.revised_ops[--j] = 'A';
    } else {
      out.rejected_ops[--i] = 'S';
      out.revised_ops[--j] = 'S';
    }
  }
  out.rejected_labels = rejected_token_labels(out.rejected_ops);
  out.revised_labels = revised_token_labels(out.revised_ops);
  return out;
}

}  // namespace tlcr
