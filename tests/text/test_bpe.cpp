// Tests for text/bpe.hpp: merge order on a hand-built vocabulary, the heap-based merge loop
// against a naive quadratic reference, exact round trips on random bytes, special tokens, and
// the checks that reject inconsistent vocabularies.
#include <doctest/doctest.h>
#include <tlcr/text/bpe.hpp>

#include "text_testing.hpp"

#include <climits>
#include <map>
#include <string>
#include <vector>

using namespace tlcr;
using Ids = std::vector<TokenId>;

namespace {

BpeSpec byte_spec() {
  BpeSpec spec;
  for (int byte = 0; byte < 256; ++byte) spec.tokens.emplace_back(std::string(1, char(byte)));
  return spec;
}

TokenId id_of(const BpeSpec& spec, const std::string& bytes) {
  for (TokenId id = 0; id < TokenId(spec.tokens.size()); ++id)
    if (spec.tokens[id] == bytes) return id;
  FAIL("no token '" << bytes << "'");
  return -1;
}

// Appends the token left+right and the merge (left, right); returns the new id.
TokenId add_merge(BpeSpec& spec, const std::string& left, const std::string& right) {
  spec.merges.emplace_back(id_of(spec, left), id_of(spec, right));
  spec.tokens.emplace_back(left + right);
  return TokenId(spec.tokens.size() - 1);
}

// The textbook algorithm, straight from the spec: per piece, repeatedly merge the leftmost
// adjacent pair of lowest rank.
Ids naive_encode(const BpeSpec& spec, std::string_view text) {
  std::map<std::string, TokenId> id_by_bytes;
  for (TokenId id = 0; id < TokenId(spec.tokens.size()); ++id)
    if (spec.tokens[id]) id_by_bytes[*spec.tokens[id]] = id;
  std::map<std::pair<TokenId, TokenId>, int> merge_rank;
  for (int rank = 0; rank < int(spec.merges.size()); ++rank)
    merge_rank.emplace(spec.merges[rank], rank);

  Ids ids;
  for (std::string_view piece : pretokenize(text, spec.pretokenizer)) {
    std::vector<std::string> parts;
    for (char byte : piece) parts.emplace_back(1, byte);
    if (spec.ranking == MergeRanking::token_rank && id_by_bytes.count(std::string(piece)))
      parts = {std::string(piece)};
    while (parts.size() > 1) {
      int best_rank = INT_MAX;
      std::size_t best = 0;
      for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        int rank = INT_MAX;
        const std::string joined = parts[i] + parts[i + 1];
        if (spec.ranking == MergeRanking::token_rank) {
          if (id_by_bytes.count(joined)) rank = id_by_bytes[joined];
        } else {
          const auto it = merge_rank.find({id_by_bytes[parts[i]], id_by_bytes[parts[i + 1]]});
          if (it != merge_rank.end()) rank = it->second;
        }
        if (rank < best_rank) best_rank = rank, best = i;
      }
      if (best_rank == INT_MAX) break;
      parts[best] += parts[best + 1];
      parts.erase(parts.begin() + best + 1);
    }
    for (const std::string& part : parts) ids.push_back(id_by_bytes.at(part));
  }
  return ids;
}

}  // namespace

TEST_CASE("merges apply best rank first, leftmost on ties") {
  BpeSpec spec = byte_spec();
  const TokenId ab = add_merge(spec, "a", "b");    // rank 0
  const TokenId bc = add_merge(spec, "b", "c");    // rank 1
  const TokenId abc = add_merge(spec, "ab", "c");  // rank 2
  const TokenId aa = add_merge(spec, "a", "a");    // rank 3
  const BpeTokenizer tokenizer(spec);
  CHECK(tokenizer.encode("abc") == Ids{abc});      // (a,b) before (b,c), then (ab,c)
  CHECK(tokenizer.encode("bcab") == Ids{bc, ab});  // (a,b) first, then (b,c)
  CHECK(tokenizer.encode("aaa") == Ids{aa, 'a'});  // the leftmost (a,a) wins
  CHECK(tokenizer.encode("aaaa") == Ids{aa, aa});
  CHECK(tokenizer.encode("cab") == Ids{'c', ab});
  // Merges never cross pre-token boundaries: " ab" is one piece, "ab ab" two.
  CHECK(tokenizer.encode("ab ab") == Ids{ab, ' ', ab});
  CHECK(tokenizer.encode("") == Ids{});
  CHECK(tokenizer.vocab_size() == 260);
}

TEST_CASE("the heap-based merge loop agrees with the naive reference") {
  const BpeTokenizer& trained = testing::small_tokenizer();
  // The same vocabulary under tiktoken's rule is another valid tokenizer to compare.
  BpeSpec token_rank_spec = trained.spec();
  token_rank_spec.ranking = MergeRanking::token_rank;
  token_rank_spec.merges.clear();
  const BpeTokenizer token_ranked(token_rank_spec);

  Rng rng(5);
  for (int trial = 0; trial < 150; ++trial) {
    const std::string text = trial % 3 == 2 ? testing::random_bytes(rng, rng.uniform_int(200))
                                            : testing::random_text(rng, int(rng.uniform_int(50)));
    REQUIRE(trained.encode(text) == naive_encode(trained.spec(), text));
    REQUIRE(token_ranked.encode(text) == naive_encode(token_rank_spec, text));
  }
}

TEST_CASE("decode(encode(x)) == x for random bytes and random text") {
  const BpeTokenizer& tokenizer = testing::small_tokenizer();
  Rng rng(9);
  for (int trial = 0; trial < 300; ++trial) {
    const std::string input = trial % 2 == 0 ? testing::random_bytes(rng, rng.uniform_int(500))
                                             : testing::random_text(rng, int(rng.uniform_int(80)));
    const Ids ids = tokenizer.encode(input);
    for (const TokenId id : ids) REQUIRE_FALSE(tokenizer.is_special(id));
    REQUIRE(tokenizer.decode(ids) == input);
  }
  // Training compresses text it has seen the like of.
  const std::string text = testing::random_text(rng, 200);
  CHECK(tokenizer.encode(text).size() * 2 < text.size());
}

TEST_CASE("special tokens: plain text for encode(), ids for encode_with_special_tokens()") {
  const BpeTokenizer& tokenizer = testing::small_tokenizer();
  const TokenId bos = tokenizer.bos_id(), eos = tokenizer.eos_id(), pad = tokenizer.pad_id();
  CHECK(tokenizer.vocab_size() == 400);
  CHECK(Ids{bos, eos, pad} == Ids{397, 398, 399});
  CHECK(tokenizer.is_special(eos));
  CHECK(tokenizer.token_text(eos) == "<|eos|>");
  CHECK(tokenizer.special_token_id("<|pad|>") == pad);
  CHECK_FALSE(tokenizer.special_token_id("<|nope|>"));

  const std::string text = "the model<|eos|>good<|pad|>";
  const Ids plain = tokenizer.encode(text);
  CHECK(std::find(plain.begin(), plain.end(), eos) == plain.end());
  CHECK(tokenizer.decode(plain) == text);

  Ids expected = tokenizer.encode("the model");
  expected.push_back(eos);
  const Ids good = tokenizer.encode("good");
  expected.insert(expected.end(), good.begin(), good.end());
  expected.push_back(pad);
  CHECK(tokenizer.encode_with_special_tokens(text) == expected);
  CHECK(tokenizer.decode(expected) == text);
  CHECK(tokenizer.encode_with_special_tokens("") == Ids{});
}

TEST_CASE("encode_with_special_tokens prefers the earliest, then the longest special token") {
  BpeSpec spec = byte_spec();
  spec.special_tokens = {{"<s>", 300}, {"<s>x", 301}, {"x<", 302}};
  const BpeTokenizer tokenizer(spec);
  CHECK(tokenizer.vocab_size() == 303);
  CHECK(tokenizer.encode_with_special_tokens("<s>x<s>") == Ids{301, 300});
  CHECK(tokenizer.encode_with_special_tokens("ax<s>") == Ids{'a', 302, 's', '>'});
  CHECK_THROWS_WITH_AS(tokenizer.decode(Ids{299}),
                       "BpeTokenizer: token id 299 is unused in this vocabulary", Error);
}

TEST_CASE("decode rejects ids outside the vocabulary") {
  const BpeTokenizer& tokenizer = testing::small_tokenizer();
  CHECK_THROWS_WITH_AS(tokenizer.decode(Ids{5, 400}),
                       "BpeTokenizer: token id 400 is out of range [0, 400)", Error);
  CHECK_THROWS_WITH_AS(tokenizer.decode(Ids{-1}),
                       "BpeTokenizer: token id -1 is out of range [0, 400)", Error);
}

TEST_CASE("inconsistent vocabularies are rejected with the reason") {
  SUBCASE("a missing byte") {
    BpeSpec spec = byte_spec();
    spec.tokens[0xFF].reset();
    CHECK_THROWS_WITH_AS(BpeTokenizer{spec},
                         "BpeTokenizer: byte 255 has no token; a byte-level vocabulary needs all "
                         "256 single bytes",
                         Error);
  }
  SUBCASE("two tokens with the same bytes") {
    BpeSpec spec = byte_spec();
    spec.tokens.emplace_back("a");
    CHECK_THROWS_WITH_AS(BpeTokenizer{spec},
                         "BpeTokenizer: tokens 97 and 256 have the same bytes 'a'", Error);
  }
  SUBCASE("a special token on an ordinary id") {
    BpeSpec spec = byte_spec();
    spec.special_tokens = {{"<x>", 97}};
    CHECK_THROWS_WITH_AS(BpeTokenizer{spec},
                         "BpeTokenizer: special token '<x>' has id 97, which is the ordinary "
                         "token 'a'",
                         Error);
  }
  SUBCASE("two special tokens on one id") {
    BpeSpec spec = byte_spec();
    spec.special_tokens = {{"<x>", 300}, {"<y>", 300}};
    CHECK_THROWS_WITH_AS(BpeTokenizer{spec},
                         "BpeTokenizer: special tokens '<x>' and '<y>' share id 300", Error);
  }
  SUBCASE("a special token id out of range") {
    BpeSpec spec = byte_spec();
    spec.special_tokens = {{"<x>", -3}};
    CHECK_THROWS_WITH_AS(BpeTokenizer{spec},
                         "BpeTokenizer: special token '<x>' has id -3, outside [0, 16777215]",
                         Error);
  }
  SUBCASE("a role naming no special token") {
    BpeSpec spec = byte_spec();
    spec.eos = "<eos>";
    CHECK_THROWS_WITH_AS(BpeTokenizer{spec},
                         "BpeTokenizer: eos is '<eos>', which is not a special token", Error);
  }
  SUBCASE("a merge whose result is not a token") {
    BpeSpec spec = byte_spec();
    spec.merges.emplace_back('a', 'z');
    CHECK_THROWS_WITH_AS(BpeTokenizer{spec},
                         "BpeTokenizer: merge 0 (97, 122) makes 'az', which is not a token", Error);
  }
  SUBCASE("a merge of a non-token") {
    BpeSpec spec = byte_spec();
    spec.merges.emplace_back('a', 256);
    CHECK_THROWS_WITH_AS(BpeTokenizer{spec},
                         "BpeTokenizer: merge 0 uses id 256, which is not an ordinary token",
                         Error);
  }
  SUBCASE("a repeated merge") {
    BpeSpec spec = byte_spec();
    add_merge(spec, "a", "b");
    spec.merges.emplace_back('a', 'b');
    CHECK_THROWS_WITH_AS(BpeTokenizer{spec}, "BpeTokenizer: merge 1 (97, 98) repeats merge 0",
                         Error);
  }
  SUBCASE("a merge list under token_rank") {
    BpeSpec spec = byte_spec();
    add_merge(spec, "a", "b");
    spec.ranking = MergeRanking::token_rank;
    CHECK_THROWS_WITH_AS(BpeTokenizer{spec},
                         doctest::Contains("token_rank ranking takes no merge list (1 merges"),
                         Error);
  }
  SUBCASE("asking for a role the tokenizer lacks") {
    const BpeTokenizer tokenizer(byte_spec());
    CHECK_FALSE(tokenizer.has_bos());
    CHECK_THROWS_WITH_AS(tokenizer.bos_id(), "BpeTokenizer: this tokenizer has no BOS token",
                         Error);
  }
}
