// Tests for rlhf/edit_labels.hpp: the TLCR alignment on hand-worked cases (including each tie
// order), empty sides, and properties on many random sequences checked against an independent DP.
#include <doctest/doctest.h>
#include <tlcr/core/rng.hpp>
#include <tlcr/rlhf/edit_labels.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace tlcr;

namespace {

std::vector<int32_t> ids(const std::string& letters) {
  return {letters.begin(), letters.end()};
}

// Textbook Levenshtein distance with two rows, written without looking at the library's version.
int64_t reference_distance(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  std::vector<int64_t> previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = int64_t(j);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = int64_t(i);
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const int64_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

struct Case {
  std::string rejected, revised, rejected_ops, revised_ops;
};

}  // namespace

TEST_CASE("edit_labels: hand-worked alignments follow the spec's tie order") {
  const Case cases[] = {
      {"ab", "ba", "UD", "AU"},      // the spec's example: delete wins the D/A/S tie
      {"abc", "abc", "UUU", "UUU"},  // identity
      {"ac", "abc", "UU", "UAU"},    // pure insertion
      {"abc", "ac", "UDU", "UU"},    // pure deletion
      {"abc", "axc", "USU", "USU"},  // substitution
      {"a", "b", "S", "S"},          // only a substitution reaches distance 1
      {"xa", "ay", "DU", "UA"},      // at the end, add (A) ties with substitute and wins
      {"ay", "xa", "UD", "AU"},      // at the end, delete (D) ties with substitute and wins
      {"", "ab", "", "AA"},          // empty rejected side
      {"ab", "", "DD", ""},          // empty revised side
      {"", "", "", ""},              // both empty
  };
  for (const Case& c : cases) {
    CAPTURE(c.rejected);
    CAPTURE(c.revised);
    const EditLabels out = edit_labels(ids(c.rejected), ids(c.revised));
    CHECK(out.rejected_ops == c.rejected_ops);
    CHECK(out.revised_ops == c.revised_ops);
    CHECK(out.distance == reference_distance(ids(c.rejected), ids(c.revised)));
  }
}

TEST_CASE("edit_labels: labels are −1 on rejected D/S, +1 on revised A/S, 0 on U") {
  const EditLabels out = edit_labels(ids("abcd"), ids("axcyd"));  // b→x substituted, y added
  CHECK(out.rejected_ops == "USUU");
  CHECK(out.revised_ops == "USUAU");
  CHECK(out.rejected_labels == std::vector<int8_t>{0, -1, 0, 0});
  CHECK(out.revised_labels == std::vector<int8_t>{0, 1, 0, 1, 0});
  const EditLabels swap = edit_labels(ids("ab"), ids("ba"));
  CHECK(swap.rejected_labels == std::vector<int8_t>{0, -1});
  CHECK(swap.revised_labels == std::vector<int8_t>{1, 0});
}

TEST_CASE("edit_labels: works on words as well as token ids") {
  const std::vector<std::string> rejected{"the", "dumb", "fox", "is", "brown", "."};
  const std::vector<std::string> revised{"the", "fox", "is", "red", "."};
  const EditLabels out = edit_labels(rejected, revised);
  CHECK(out.rejected_ops == "UDUUSU");
  CHECK(out.revised_ops == "UUUSU");
  CHECK(out.distance == 2);
}

TEST_CASE("edit_labels: properties on random sequences") {
  Rng rng(7001);
  for (int trial = 0; trial < 3000; ++trial) {
    // Small alphabets make equal tokens, and so ties, common.
    const int alphabet = 1 + int(rng.uniform_int(4));
    auto random_sequence = [&] {
      std::vector<int32_t> s(rng.uniform_int(13));
      for (auto& token : s) token = int32_t(rng.uniform_int(uint64_t(alphabet)));
      return s;
    };
    const std::vector<int32_t> rejected = random_sequence(), revised = random_sequence();
    const EditLabels out = edit_labels(rejected, revised);
    REQUIRE(out.rejected_ops.size() == rejected.size());
    REQUIRE(out.revised_ops.size() == revised.size());
    REQUIRE(out.rejected_labels.size() == rejected.size());
    REQUIRE(out.revised_labels.size() == revised.size());

    // Walk the two op strings as one alignment: D consumes a rejected token, A a revised token,
    // U and S consume one of each and must pair with the same letter.
    std::size_t i = 0, j = 0;
    int64_t edits = 0;
    bool consistent = true;
    while (i < rejected.size() || j < revised.size()) {
      if (i < rejected.size() && out.rejected_ops[i] == 'D') {
        ++i, ++edits;
      } else if (j < revised.size() && out.revised_ops[j] == 'A') {
        ++j, ++edits;
      } else if (i < rejected.size() && j < revised.size() &&
                 out.rejected_ops[i] == out.revised_ops[j]) {
        const bool equal = rejected[i] == revised[j];
        if (out.rejected_ops[i] == 'U') consistent &= equal;  // U only on equal tokens
        if (out.rejected_ops[i] == 'S') {
          consistent &= !equal;  // equal tokens always take the diagonal as U
          ++edits;
        }
        ++i, ++j;
      } else {
        consistent = false;
        break;
      }
    }
    CHECK(consistent);
    CHECK(edits == reference_distance(rejected, revised));
    CHECK(out.distance == edits);
    CHECK(out.rejected_labels == rejected_token_labels(out.rejected_ops));
    CHECK(out.revised_labels == revised_token_labels(out.revised_ops));
    for (std::size_t k = 0; k < rejected.size(); ++k)
      CHECK(out.rejected_labels[k] == (out.rejected_ops[k] == 'U' ? 0 : -1));
    for (std::size_t k = 0; k < revised.size(); ++k)
      CHECK(out.revised_labels[k] == (out.revised_ops[k] == 'U' ? 0 : 1));
  }
}

TEST_CASE("op strings with letters of the wrong side are rejected") {
  CHECK(rejected_token_labels("UDS") == std::vector<int8_t>{0, -1, -1});
  CHECK(revised_token_labels("UAS") == std::vector<int8_t>{0, 1, 1});
  CHECK_THROWS_WITH_AS(rejected_token_labels("UAU"),
                       doctest::Contains("expected U, S or D, found 'A' at position 1"), Error);
  CHECK_THROWS_WITH_AS(revised_token_labels("UUD"),
                       doctest::Contains("expected U, S or A, found 'D' at position 2"), Error);
}
