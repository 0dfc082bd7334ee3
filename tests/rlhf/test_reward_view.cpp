// Tests for rlhf/reward_view.hpp: HTML escaping (markup, quotes, broken UTF-8), one coloured span
// per token with p and r in its tooltip, the colour scale, terminal output with and without colour,
// the JSONL form, files written atomically, and views built from reward models.
#include <doctest/doctest.h>
#include <tlcr/rlhf/reward_view.hpp>
#include <tlcr/rlhf/rewards.hpp>

#include <fstream>
#include <sstream>

#include "reward_testing.hpp"

using namespace tlcr;

namespace {
int64_t count(const std::string& text, const std::string& piece) {
  int64_t n = 0;
  for (std::size_t at = text.find(piece); at != std::string::npos; at = text.find(piece, at + 1))
    ++n;
  return n;
}
TokenRewardView hand_view() {
  TokenRewardView view;
  view.reward_name = "tlcr";
  view.prompt = "is 1 < 2 & \"true\"?";
  view.ids = {11, 12, 13, 14, 15};
  view.tokens = {" <b>bold</b>", " 'quoted'", " caf\xC3\xA9", " \xE2\x82", "\n"};  // a cut '€'
  view.p = {0.9f, 0.1f, 0.5f, 0.75f, std::numeric_limits<float>::quiet_NaN()};
  view.r = {0.8f, -0.8f, 0.0f, 0.5f, 0.0f};
  return view;
}
}  // namespace

TEST_CASE("html_escape: markup and quotes escaped, UTF-8 kept, broken bytes replaced") {
  CHECK(html_escape("<a href=\"x\">Tom & 'Jerry'</a>") ==
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
  CHECK(html_escape("caf\xC3\xA9 \xE2\x82\xAC") == "caf\xC3\xA9 \xE2\x82\xAC");
  CHECK(html_escape("a\xE2\x82") == "a\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(html_escape("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
}

TEST_CASE("HTML: one span per token, escaped text, p and r on hover, a legend") {
  const TokenRewardView view = hand_view();
  const std::string html = render_reward_views_html(std::vector{view, view}, "rewards <test>");
  CHECK(html.starts_with("<!DOCTYPE html>"));
  CHECK(count(html, "<span class=\"tok\"") == 2 * 5);
  CHECK(html.find("&lt;b&gt;bold&lt;/b&gt;") != std::string::npos);
  CHECK(html.find("<b>bold</b>") == std::string::npos);
  CHECK(html.find("&#39;quoted&#39;") != std::string::npos);
  CHECK(html.find("caf\xC3\xA9") != std::string::npos);
  CHECK(html.find(" \xEF\xBF\xBD\xEF\xBF\xBD</span>") != std::string::npos);
  CHECK(html.find("is 1 &lt; 2 &amp; &quot;true&quot;?") != std::string::npos);
  CHECK(html.find("rewards &lt;test&gt;") != std::string::npos);
  CHECK(html.find("title=\"token 0: id 11, p = 0.9000, r = +0.8000\"") != std::string::npos);
  CHECK(html.find("title=\"token 4: id 15, p = -, r = +0.0000\"") != std::string::npos);
  CHECK(html.find("class=\"legend\"") != std::string::npos);
  // Colours: green for +0.8, red for −0.8, white for 0.
  CHECK(html.find("background: rgb(83,187,107)") != std::string::npos);
  CHECK(html.find("background: rgb(227,91,89)") != std::string::npos);
  CHECK(html.find("background: rgb(255,255,255)") != std::string::npos);
  // Without probabilities the tooltip has r only.
  TokenRewardView no_p = view;
  no_p.p.clear();
  CHECK(render_reward_views_html(std::vector{no_p}).find("title=\"token 1: id 12, r = -0.8000\"") !=
        std::string::npos);
}

TEST_CASE("the colour scale runs red → white → green and clamps") {
  auto same = [](detail::Rgb a, detail::Rgb b) {
    return a.red == b.red && a.green == b.green && a.blue == b.blue;
  };
  CHECK(same(detail::reward_colour(0.0), {255, 255, 255}));
  CHECK(same(detail::reward_colour(1.0), {40, 170, 70}));
  CHECK(same(detail::reward_colour(-1.0), {220, 50, 47}));
  CHECK(same(detail::reward_colour(7.0), detail::reward_colour(1.0)));
  CHECK(same(detail::reward_colour(-0.5), {238, 153, 151}));
}

TEST_CASE("terminal text: coloured or plain, one table line per token") {
  const TokenRewardView view = hand_view();
  const std::string plain = render_reward_view_text(view, false);
  const std::string coloured = render_reward_view_text(view, true);
  CHECK(plain.find('\x1b') == std::string::npos);
  CHECK(count(coloured, "\x1b[30;48;2;") == 5);
  CHECK(plain.find("response:  <b>bold</b>| 'quoted'") != std::string::npos);
  CHECK(plain.find("'\\n'") != std::string::npos);  // the newline token is shown, not printed
  CHECK(plain.find("0.9000") != std::string::npos);
  CHECK(plain.find("-0.8000") != std::string::npos);
  CHECK(count(plain, "\n") == 4 + 1 + 5);  // header lines, blank line, 5 token rows
}

TEST_CASE("JSONL form and files, written atomically") {
  testing::ScratchDir dir("reward_view");
  const std::vector<TokenRewardView> views = {hand_view()};
  write_reward_views_jsonl(dir.path / "views.jsonl", views);
  write_reward_views_html(dir.path / "views.html", views);
  CHECK(testing::read_file(dir.path / "views.html") == render_reward_views_html(views));
  const std::string text = testing::read_file(dir.path / "views.jsonl");
  REQUIRE(count(text, "\n") == 1);
  const auto j = nlohmann::json::parse(text);
  CHECK(j["reward"] == "tlcr");
  CHECK(j["tokens"].size() == 5);
  CHECK(j["ids"][0] == 11);
  CHECK(j["p"][4].is_null());
  CHECK(j["r"][1].get<double>() == doctest::Approx(-0.8));
  CHECK(j["total"].get<double>() == doctest::Approx(0.5));
  CHECK(j["tokens"][3].get<std::string>() == " \xEF\xBF\xBD");  // the cut character, replaced
  for (const auto& entry : std::filesystem::directory_iterator(dir.path))
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("views from reward models: tokens, rewards and probabilities line up") {
  const testing::SmallTask task = testing::make_small_task(2);
  const ResponseEnds ends = ResponseEnds::of(task.tokenizer);
  const std::vector<SftRecord> records = {{"what colour is the fox ?", "the fox is red ."},
                                          {"describe a cow .", "ugh , a cow moos ."}};
  const auto model = std::make_shared<const Gpt2<float>>(
      Gpt2<float>(TransformerConfig::gpt2(task.tokenizer.vocab_size(), 64, 1, 2, 16),
                  {.lm = false, .token_classes = 2}, 3));
  const DiscriminatorReward<float, Gpt2Arch> tlcr(model, ends);
  const auto views = view_rewards(tlcr, task.tokenizer, records);
  REQUIRE(views.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(views[i].prompt == records[i].prompt);
    CHECK(views[i].response() == " " + records[i].response + "<|eos|>");
    CHECK(reward_view_json(views[i])["response"] == records[i].response);  // the input, echoed
    REQUIRE(views[i].p.size() == views[i].tokens.size());
    CHECK(views[i].r.back() == 0.0f);  // EOS
    CHECK(std::isnan(views[i].p.back()));
    for (std::size_t t = 0; t + 1 < views[i].r.size(); ++t)
      CHECK(views[i].r[t] == doctest::Approx(2 * views[i].p[t] - 1));
  }
  // A cut-off response ("complete": false) is scored without EOS.
  std::vector<SftRecord> cut = records;
  cut[0].complete = false;
  const auto cut_views = view_rewards(tlcr, task.tokenizer, cut);
  CHECK(cut_views[0].ids.size() + 1 == views[0].ids.size());
  CHECK(cut_views[0].response() == " " + records[0].response);
  const auto random_views = view_rewards(RandomReward(ends, 3), task.tokenizer, records);
  CHECK(random_views[0].p.empty());
  CHECK(random_views[0].reward_name == "random");
  CHECK_THROWS_WITH_AS(
      make_reward_view(task.tokenizer, "p", std::vector<int32_t>{1, 2}, std::vector<float>{0.5f}),
      doctest::Contains("1 rewards for 2 tokens"), Error);
}
