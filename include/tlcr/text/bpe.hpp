// tlcr/text/bpe.hpp — a BPE tokenizer: encode bytes to token ids and back.
//
// A tokenizer is a BpeSpec (plain data: token bytes, merge priorities, special tokens, the
// pre-tokenizer) checked and indexed by BpeTokenizer. Encoding splits the text into pre-token
// pieces (pretokenizer.hpp), starts each piece as a sequence of units, and repeatedly merges the
// adjacent pair with the best (lowest) rank — the leftmost one on a tie — until no pair merges.
//
// Two kinds of unit cover the BPE files in the wild:
//   bytes       byte-level BPE (GPT-2, tiktoken, Llama 3): one token per byte. Every byte has a
//               token, so encode/decode round-trips any byte string, invalid UTF-8 included.
//   characters  SentencePiece-style BPE (Llama 2): one token per UTF-8 character; a character
//               without a token becomes the byte-fallback tokens <0xXX> of its bytes (or, without
//               byte fallback, the unknown token). Spaces are written as U+2581 "▁" and one "▁" is
//               put before the text (space_marker); decoding undoes both, as SentencePiece does.
//
// Two ranking rules:
//   merge_list  ranks come from an ordered merge list (our trainer; GPT-2's merges.txt; Hugging
//               Face tokenizer.json). Merge k joins (left, right) into the token whose bytes are
//               their concatenation. With whole_pieces_first (Hugging Face's ignore_merges, as in
//               Llama 3) a piece that is itself a token is emitted whole.
//   token_rank  tiktoken's rule: two adjacent tokens may merge whenever their concatenation is a
//               token, ranked by that token's id; a piece that is itself a token is emitted whole.
//
// Special tokens (BOS, EOS, PAD, <|endoftext|>, ...) have ids but no merges: encode() treats
// their text as ordinary text, encode_with_special_tokens() maps it to their ids.
// A BpeTokenizer is immutable after construction; encode and decode may run on many threads.
// Not here: training (bpe_train.hpp), files (tokenizer_json.hpp, openai_files.hpp,
// hf_tokenizer_json.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tlcr/config.hpp"
#include "tlcr/text/byte_alphabet.hpp"
#include "tlcr/text/pretokenizer.hpp"

namespace tlcr {

using TokenId = std::int32_t;

// Ids above this are rejected, so that a corrupt file cannot ask for a giant table.
inline constexpr TokenId kMaxTokenId = (1 << 24) - 1;

enum class MergeRanking { merge_list, token_rank };

inline std::string_view merge_ranking_name(MergeRanking ranking) {
  return ranking == MergeRanking::merge_list ? "merge_list" : "token_rank";
}

inline MergeRanking merge_ranking_from_name(std::string_view name) {
  if (name == "merge_list") return MergeRanking::merge_list;
  if (name == "token_rank") return MergeRanking::token_rank;
  detail::fail("unknown merge ranking '", name, "' (expected \"merge_list\" or \"token_rank\")");
}

// What a piece is made of before any merge (see the file comment).
enum class BpeUnits { bytes, characters };

inline std::string_view bpe_units_name(BpeUnits units) {
  return units == BpeUnits::bytes ? "bytes" : "characters";
}

inline BpeUnits bpe_units_from_name(std::string_view name) {
  if (name == "bytes") return BpeUnits::bytes;
  if (name == "characters") return BpeUnits::characters;
  detail::fail("unknown BPE units '", name, "' (expected \"bytes\" or \"characters\")");
}

// SentencePiece's space handling: where "▁" is put before the text. `every_segment` puts one
// before each stretch of text between special tokens (Hugging Face's Prepend normalizer, as in
// Llama 2's tokenizer.json); `first_segment` only before the text's start (Metaspace with
// prepend_scheme "first").
enum class SpaceMarker { none, every_segment, first_segment };

inline std::string_view space_marker_name(SpaceMarker marker) {
  switch (marker) {
    case SpaceMarker::none:
      return "none";
    case SpaceMarker::every_segment:
      return "every_segment";
    case SpaceMarker::first_segment:
      return "first_segment";
  }
  return "?";
}

inline SpaceMarker space_marker_from_name(std::string_view name) {
  if (name == "none") return SpaceMarker::none;
  if (name == "every_segment") return SpaceMarker::every_segment;
  if (name == "first_segment") return SpaceMarker::first_segment;
  detail::fail("unknown space marker '", name,
               "' (expected \"none\", \"every_segment\" or \"first_segment\")");
}

// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible space.
inline constexpr std::string_view kSpaceMarkerText = "\xE2\x96\x81";

struct SpecialToken {
  std::string text;  // e.g. "<|endoftext|>"
  TokenId id;
};

// Everything that defines a tokenizer, as plain data.
struct BpeSpec {
  Pretokenizer pretokenizer = Pretokenizer::gpt2;
  MergeRanking ranking = MergeRanking::merge_list;
  // tokens[id]: the bytes of ordinary token `id`; nullopt for special or unused ids.
  std::vector<std::optional<std::string>> tokens;
  // merge_list only: (left id, right id), best first.
  std::vector<std::pair<TokenId, TokenId>> merges;
  std::vector<SpecialToken> special_tokens;  // ids must not be ordinary tokens
  std::string bos, eos, pad;                 // text of the special token in each role; "" = none

  BpeUnits units = BpeUnits::bytes;
  bool whole_pieces_first = false;  // merge_list: a piece that is a token is emitted whole
  // characters only: byte_fallback[b] is the id of the ordinary token "<0xBB>" (all 256, or none);
  // unk is the text of the special token for a character with no token and no fallback.
  std::vector<TokenId> byte_fallback;
  std::string unk;
  bool fuse_unk = true;  // consecutive unknown characters give one unknown token
  SpaceMarker space_marker = SpaceMarker::none;
};

namespace detail {

inline std::uint64_t pair_key(TokenId left, TokenId right) {
  return (std::uint64_t(std::uint32_t(left)) << 32) | std::uint32_t(right);
}

struct Merge {
  std::int32_t rank;
  TokenId merged;
};

// Lets unordered_map<std::string, ...> be searched with a string_view, without a copy.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Scratch buffers reused across the pieces of one encode call.
struct MergeWorkspace {
  struct Part {
    TokenId id;  // -1 once merged into its left neighbour
    int prev, next;
    int begin;  // offset of the part's first byte in the piece
  };
  struct Candidate {
    std::int32_t rank;
    int left;  // index of the left part; a merged part keeps its left part's index
    TokenId left_id, right_id, merged;
    // Heap order: the best rank first, then the leftmost.
    bool operator>(const Candidate& other) const {
      return rank != other.rank ? rank > other.rank : left > other.left;
    }
  };
  std::vector<Part> parts;
  std::vector<Candidate> heap;
};

}  // namespace detail

class BpeTokenizer {
 public:
  // Checks the spec (see the messages below for every rule) and builds the lookup tables.
  explicit BpeTokenizer(BpeSpec spec) : spec_(std::move(spec)) {
    TLCR_CHECK(spec_.tokens.size() <= std::size_t(kMaxTokenId) + 1,
               "BpeTokenizer: ", spec_.tokens.size(), " tokens exceed the limit of ",
               kMaxTokenId + 1);
    index_tokens();
    index_special_tokens();
    index_units();
    index_merges();
  }

  const BpeSpec& spec() const { return spec_; }
  Pretokenizer pretokenizer() const { return spec_.pretokenizer; }
  // One past the largest id; embedding tables need this many rows.
  TokenId vocab_size() const { return TokenId(kind_by_id_.size()); }

  // Text → ids. Special-token text is encoded as ordinary bytes.
  std::vector<TokenId> encode(std::string_view text) const {
    std::vector<TokenId> ids;
    encode_ordinary_into(text, /*mark_start=*/true, ids);
    return ids;
  }

  // Text that continues earlier text (a response after its prompt): like encode(), except that a
  // space-marker tokenizer puts no "▁" before it, so " yes" is "▁yes" as inside a longer text.
  std::vector<TokenId> encode_continuation(std::string_view text) const {
    std::vector<TokenId> ids;
    encode_ordinary_into(text, /*mark_start=*/false, ids);
    return ids;
  }

  // Text → ids, where the text of a special token becomes its id (the earliest occurrence wins;
  // at equal positions the longest special token).
  std::vector<TokenId> encode_with_special_tokens(std::string_view text) const {
    std::vector<TokenId> ids;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t found = std::string_view::npos;
      const SpecialToken* special = nullptr;
      for (const SpecialToken& candidate : spec_.special_tokens) {
        const std::size_t at = text.find(candidate.text, pos);
        if (at == std::string_view::npos) continue;
        if (special == nullptr || at < found ||
            (at == found && candidate.text.size() > special->text.size())) {
          found = at;
          special = &candidate;
        }
      }
      // Each stretch between special tokens gets its "▁" (every_segment), or only the first.
      const bool mark_start = pos == 0 || spec_.space_marker == SpaceMarker::every_segment;
      if (special == nullptr) {
        encode_ordinary_into(text.substr(pos), mark_start, ids);
        break;
      }
      encode_ordinary_into(text.substr(pos, found - pos), mark_start, ids);
      ids.push_back(special->id);
      pos = found + special->text.size();
    }
    return ids;
  }

  // Ids → bytes; a special token contributes its text, a byte-fallback token its byte. With a
  // space marker, "▁" becomes " " and one leading space is dropped (the one encoding put there).
  std::string decode(std::span<const TokenId> ids) const {
    std::string out;
    for (const TokenId id : ids) {
      check_id(id);
      if (byte_of_id_.empty() || byte_of_id_[id] < 0)
        append_token_text(out, token_text(id));
      else
        out += char(byte_of_id_[id]);
    }
    if (spec_.space_marker != SpaceMarker::none && out.starts_with(' ')) out.erase(0, 1);
    return out;
  }

  // The bytes of one token as the vocabulary spells it ("▁the", "<0x0A>"; a special token's text).
  std::string_view token_text(TokenId id) const {
    check_id(id);
    if (kind_by_id_[id] == Kind::ordinary) return *spec_.tokens[id];
    return spec_.special_tokens[special_index_by_id_.at(id)].text;
  }

  bool is_special(TokenId id) const {
    check_id(id);
    return kind_by_id_[id] == Kind::special;
  }

  // The ordinary token whose bytes are exactly `bytes`, if any.
  std::optional<TokenId> token_id(std::string_view bytes) const {
    const auto it = id_by_bytes_.find(bytes);
    if (it == id_by_bytes_.end()) return std::nullopt;
    return it->second;
  }

  std::optional<TokenId> special_token_id(std::string_view text) const {
    for (const SpecialToken& special : spec_.special_tokens)
      if (special.text == text) return special.id;
    return std::nullopt;
  }

  bool has_bos() const { return !spec_.bos.empty(); }
  bool has_eos() const { return !spec_.eos.empty(); }
  bool has_pad() const { return !spec_.pad.empty(); }
  TokenId bos_id() const { return role_id("BOS", spec_.bos); }
  TokenId eos_id() const { return role_id("EOS", spec_.eos); }
  TokenId pad_id() const { return role_id("PAD", spec_.pad); }

 private:
  enum class Kind : std::uint8_t { unused, ordinary, special };

  void check_id(TokenId id) const {
    if (id < 0 || id >= vocab_size())
      detail::fail("BpeTokenizer: token id ", id, " is out of range [0, ", vocab_size(), ")");
    if (kind_by_id_[id] == Kind::unused)
      detail::fail("BpeTokenizer: token id ", id, " is unused in this vocabulary");
  }

  TokenId role_id(const char* role, const std::string& text) const {
    if (text.empty()) detail::fail("BpeTokenizer: this tokenizer has no ", role, " token");
    return *special_token_id(text);
  }

  // Decoding's half of the space marker: "▁" → " ".
  void append_token_text(std::string& out, std::string_view text) const {
    if (spec_.space_marker == SpaceMarker::none) {
      out += text;
      return;
    }
    for (std::size_t at; (at = text.find(kSpaceMarkerText)) != std::string_view::npos;) {
      out.append(text.substr(0, at)).push_back(' ');
      text.remove_prefix(at + kSpaceMarkerText.size());
    }
    out += text;
  }

  // `mark_start`: a space-marker tokenizer puts "▁" before the text.
  void encode_ordinary_into(std::string_view text, bool mark_start,
                            std::vector<TokenId>& out) const {
    detail::MergeWorkspace workspace;
    const auto encode = [&](std::string_view piece) { encode_piece(piece, out, workspace); };
    if (spec_.space_marker == SpaceMarker::none || text.empty()) {
      for_each_pretoken(text, spec_.pretokenizer, encode);
      return;
    }
    // Encoding's half of the space marker: " " → "▁", and one "▁" before the text.
    std::string marked;
    if (mark_start) marked = kSpaceMarkerText;
    for (const char c : text) {
      if (c == ' ')
        marked += kSpaceMarkerText;
      else
        marked += c;
    }
    for_each_pretoken(marked, spec_.pretokenizer, encode);
  }

  void encode_piece(std::string_view piece, std::vector<TokenId>& out,
                    detail::MergeWorkspace& workspace) const {
    if (piece.empty()) return;
    if (spec_.units == BpeUnits::bytes && piece.size() == 1) {
      out.push_back(byte_token_[std::uint8_t(piece[0])]);
      return;
    }
    if (spec_.ranking == MergeRanking::token_rank || spec_.whole_pieces_first) {
      if (const std::optional<TokenId> whole = token_id(piece)) {
        out.push_back(*whole);
        return;
      }
    }
    // One part per unit in a doubly linked list (a merged part keeps its left part's index).
    // Candidate merges wait in a min-heap ordered by (rank, position). A popped candidate whose
    // parts have changed since it was pushed is stale and skipped: merged tokens are longer, so
    // equal ids at one position are equal parts.
    auto& parts = workspace.parts;
    auto& heap = workspace.heap;
    split_into_units(piece, parts);
    heap.clear();
    const int count = int(piece.size());

    const auto consider = [&](int left) {
      const int right = parts[left].next;
      if (right < 0) return;
      const int begin = parts[left].begin;
      const int end = parts[right].next < 0 ? count : parts[parts[right].next].begin;
      const std::optional<detail::Merge> merge =
          find_merge(parts[left].id, parts[right].id, piece.substr(begin, end - begin));
      if (!merge) return;
      heap.push_back({merge->rank, left, parts[left].id, parts[right].id, merge->merged});
      std::push_heap(heap.begin(), heap.end(), std::greater<>{});
    };
    for (int i = 0; i + 1 < int(parts.size()); ++i) consider(i);

    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
      const detail::MergeWorkspace::Candidate best = heap.back();
      heap.pop_back();
      auto& left = parts[best.left];
      if (left.id != best.left_id || left.next < 0 || parts[left.next].id != best.right_id)
        continue;  // stale
      auto& right = parts[left.next];
      left.id = best.merged;
      left.next = right.next;
      if (right.next >= 0) parts[right.next].prev = best.left;
      right.id = -1;
      if (left.prev >= 0) consider(left.prev);
      consider(best.left);
    }
    for (int i = 0; i >= 0; i = parts[i].next) out.push_back(parts[i].id);
  }

  // The piece's units before any merge, linked in order.
  void split_into_units(std::string_view piece,
                        std::vector<detail::MergeWorkspace::Part>& parts) const {
    parts.clear();
    const auto push = [&](TokenId id, int begin) {
      const int index = int(parts.size());
      if (index > 0) parts.back().next = index;
      parts.push_back({id, index - 1, -1, begin});
    };
    if (spec_.units == BpeUnits::bytes) {
      for (std::size_t i = 0; i < piece.size(); ++i)
        push(byte_token_[std::uint8_t(piece[i])], int(i));
      return;
    }
    for (std::size_t pos = 0; pos < piece.size();) {
      const std::size_t length = decode_utf8_at(piece, pos).length;  // an invalid byte: 1
      if (const std::optional<TokenId> id = token_id(piece.substr(pos, length))) {
        push(*id, int(pos));
      } else if (!spec_.byte_fallback.empty()) {
        for (std::size_t i = pos; i < pos + length; ++i)
          push(spec_.byte_fallback[std::uint8_t(piece[i])], int(i));
      } else if (!(spec_.fuse_unk && !parts.empty() && parts.back().id == unk_id_)) {
        push(unk_id_, int(pos));
      }
      pos += length;
    }
  }

  void index_tokens() {
    const TokenId size = TokenId(spec_.tokens.size());
    kind_by_id_.assign(size, Kind::unused);
    id_by_bytes_.reserve(size);
    for (TokenId id = 0; id < size; ++id) {
      if (!spec_.tokens[id]) continue;
      const std::string& bytes = *spec_.tokens[id];
      TLCR_CHECK(!bytes.empty(), "BpeTokenizer: token ", id, " has no bytes");
      const auto [it, inserted] = id_by_bytes_.emplace(bytes, id);
      if (!inserted)
        detail::fail("BpeTokenizer: tokens ", it->second, " and ", id, " have the same bytes '",
                     bytes_to_printable(bytes), "'");
      kind_by_id_[id] = Kind::ordinary;
    }
    if (spec_.units == BpeUnits::characters) return;  // checked in index_units
    for (int byte = 0; byte < 256; ++byte) {
      const std::optional<TokenId> id = token_id(std::string(1, char(byte)));
      if (!id)
        detail::fail("BpeTokenizer: byte ", byte, " has no token; a byte-level vocabulary needs ",
                     "all 256 single bytes");
      byte_token_[byte] = *id;
    }
  }

  void index_special_tokens() {
    TokenId size = vocab_size();
    for (const SpecialToken& special : spec_.special_tokens) {
      if (special.id < 0 || special.id > kMaxTokenId)
        detail::fail("BpeTokenizer: special token '", special.text, "' has id ", special.id,
                     ", outside [0, ", kMaxTokenId, "]");
      size = std::max(size, special.id + 1);
    }
    kind_by_id_.resize(size, Kind::unused);
    special_index_by_id_.assign(size, -1);
    for (std::size_t i = 0; i < spec_.special_tokens.size(); ++i) {
      const SpecialToken& special = spec_.special_tokens[i];
      TLCR_CHECK(!special.text.empty(), "BpeTokenizer: special token with id ", special.id,
                 " has empty text");
      if (kind_by_id_[special.id] == Kind::ordinary)
        detail::fail("BpeTokenizer: special token '", special.text, "' has id ", special.id,
                     ", which is the ordinary token '",
                     bytes_to_printable(*spec_.tokens[special.id]), "'");
      if (kind_by_id_[special.id] == Kind::special)
        detail::fail("BpeTokenizer: special tokens '",
                     spec_.special_tokens[special_index_by_id_[special.id]].text, "' and '",
                     special.text, "' share id ", special.id);
      if (special_token_id(special.text) != special.id)
        detail::fail("BpeTokenizer: special token '", special.text, "' is listed twice");
      kind_by_id_[special.id] = Kind::special;
      special_index_by_id_[special.id] = std::int32_t(i);
    }
    for (const auto& [role, text] :
         {std::pair{"bos", &spec_.bos}, std::pair{"eos", &spec_.eos}, std::pair{"pad", &spec_.pad}})
      if (!text->empty() && !special_token_id(*text))
        detail::fail("BpeTokenizer: ", role, " is '", *text, "', which is not a special token");
  }

  // Checks the settings of character units and the space marker; indexes byte fallback and unk.
  void index_units() {
    if (spec_.units == BpeUnits::bytes) {
      TLCR_CHECK(spec_.byte_fallback.empty() && spec_.unk.empty() &&
                     spec_.space_marker == SpaceMarker::none,
                 "BpeTokenizer: byte fallback, an unknown token and the space marker belong to ",
                 "character units; byte-level BPE needs none of them");
      return;
    }
    TLCR_CHECK(spec_.ranking == MergeRanking::merge_list,
               "BpeTokenizer: character units take a merge list (token_rank is byte-level)");
    if (!spec_.byte_fallback.empty()) {
      TLCR_CHECK(spec_.byte_fallback.size() == 256, "BpeTokenizer: byte fallback needs 256 ids, ",
                 spec_.byte_fallback.size(), " given");
      byte_of_id_.assign(kind_by_id_.size(), -1);
      for (int byte = 0; byte < 256; ++byte) {
        const TokenId id = spec_.byte_fallback[byte];
        if (id < 0 || id >= TokenId(spec_.tokens.size()) || !spec_.tokens[id])
          detail::fail("BpeTokenizer: the byte-fallback token of byte ", byte, " has id ", id,
                       ", which is not an ordinary token");
        if (byte_of_id_[id] >= 0)
          detail::fail("BpeTokenizer: bytes ", byte_of_id_[id], " and ", byte,
                       " have the same byte-fallback token ", id);
        byte_of_id_[id] = std::int16_t(byte);
      }
    } else {
      TLCR_CHECK(!spec_.unk.empty(), "BpeTokenizer: character units need byte fallback or an ",
                 "unknown token, so that every character can be encoded");
    }
    if (!spec_.unk.empty()) {
      const std::optional<TokenId> id = special_token_id(spec_.unk);
      if (!id) detail::fail("BpeTokenizer: unk is '", spec_.unk, "', which is not a special token");
      unk_id_ = *id;
    }
  }

  // The merge of two adjacent tokens whose bytes together are `joined`, if they merge.
  std::optional<detail::Merge> find_merge(TokenId left, TokenId right,
                                          std::string_view joined) const {
    if (spec_.ranking == MergeRanking::token_rank) {
      // tiktoken: any two tokens whose concatenation is a token, ranked by that token's id.
      const std::optional<TokenId> id = token_id(joined);
      if (!id) return std::nullopt;
      return detail::Merge{*id, *id};
    }
    const auto it = merges_.find(detail::pair_key(left, right));
    if (it == merges_.end()) return std::nullopt;
    return it->second;
  }

  void index_merges() {
    if (spec_.ranking == MergeRanking::token_rank) {
      TLCR_CHECK(spec_.merges.empty(), "BpeTokenizer: token_rank ranking takes no merge list (",
                 spec_.merges.size(), " merges given)");
      return;
    }
    merges_.reserve(spec_.merges.size());
    for (std::size_t rank = 0; rank < spec_.merges.size(); ++rank) {
      const auto [left, right] = spec_.merges[rank];
      for (const TokenId id : {left, right})
        if (id < 0 || id >= TokenId(spec_.tokens.size()) || !spec_.tokens[id])
          detail::fail("BpeTokenizer: merge ", rank, " uses id ", id,
                       ", which is not an ordinary token");
      const std::string joined = *spec_.tokens[left] + *spec_.tokens[right];
      const std::optional<TokenId> merged = token_id(joined);
      if (!merged)
        detail::fail("BpeTokenizer: merge ", rank, " (", left, ", ", right, ") makes '",
                     bytes_to_printable(joined), "', which is not a token");
      const auto [it, inserted] = merges_.emplace(detail::pair_key(left, right),
                                                  detail::Merge{std::int32_t(rank), *merged});
      if (!inserted)
        detail::fail("BpeTokenizer: merge ", rank, " (", left, ", ", right, ") repeats merge ",
                     it->second.rank);
    }
  }

  BpeSpec spec_;
  std::vector<Kind> kind_by_id_;
  std::vector<std::int32_t> special_index_by_id_;  // index into spec_.special_tokens, or -1
  std::unordered_map<std::string, TokenId, detail::StringHash, std::equal_to<>> id_by_bytes_;
  TokenId byte_token_[256] = {};          // bytes units: the token of each byte
  std::vector<std::int16_t> byte_of_id_;  // characters with byte fallback: id → byte, or -1
  TokenId unk_id_ = -1;
  std::unordered_map<std::uint64_t, detail::Merge> merges_;  // merge_list: pair_key → merge
};

}  // namespace tlcr
