// Tests for io/svg_plot.hpp: one polyline per series with every point, a legend entry per series,
// escaped text, bands drawn when a spread is given, and a well-formed file written atomically.
#include <doctest/doctest.h>
#include <tlcr/io/svg_plot.hpp>

#include <fstream>
#include <sstream>

using namespace tlcr;

namespace {
int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("LinePlot draws each series, its legend and an optional spread band") {
  LinePlot plot{"score <vs> KL", "KL", "oracle score", {}};
  plot.series.push_back({"tlcr", {0, 1, 2}, {0.5, 1.0, 1.5}, {0.1, 0.1, 0.2}});
  plot.series.push_back({"sequence & co", {0, 1, 2, 3}, {0.5, 0.7, 0.9, 1.0}, {}});
  const std::string svg = plot.svg();
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("</svg>") != std::string::npos);
  CHECK(count(svg, "<polyline") == 2);
  CHECK(count(svg, "<polygon") == 1);
  CHECK(count(svg, "<circle") == 7);
  CHECK(svg.find("score &lt;vs&gt; KL") != std::string::npos);
  CHECK(svg.find("sequence &amp; co") != std::string::npos);

  const auto path = std::filesystem::temp_directory_path() / ("tlcr_plot_" + std::to_string(::getpid()) + ".svg");
  plot.write(path);
  std::ifstream in(path);
  std::stringstream read;
  read << in.rdbuf();
  CHECK(read.str() == svg);
  std::filesystem::remove(path);
}
