// tlcr/io/svg_plot.hpp — small, dependency-free line plots as standalone SVG files.
//
// A LinePlot holds named series of (x, y) points (optionally with a ± band for the spread over
// seeds) and renders axes with ticks, a legend and a title. Enough to show oracle score against
// PPO iteration or against KL per reward kind; not a general plotting library.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "tlcr/io/atomic_file.hpp"

namespace tlcr {

struct PlotSeries {
  std::string name;
  std::vector<double> x, y;
  std::vector<double> spread;  // optional: ± band around y (same length as y), e.g. std over seeds
};

struct LinePlot {
  std::string title, x_label, y_label;
  std::vector<PlotSeries> series;

  std::string svg(int width = 720, int height = 440) const {
    double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
    for (const auto& s : series)
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        const double band = i < s.spread.size() ? s.spread[i] : 0.0;
        if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
        x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
        y0 = std::min(y0, s.y[i] - band), y1 = std::max(y1, s.y[i] + band);
      }
    if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    if (x1 - x0 < 1e-12) x1 = x0 + 1;
    if (y1 - y0 < 1e-12) y1 = y0 + 1;
    const double pad_y = 0.05 * (y1 - y0);
    y0 -= pad_y, y1 += pad_y;
    const double left = 70, right = width - 170, top = 40, bottom = height - 55;
    auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (right - left); };
    auto py = [&](double y) { return bottom - (y - y0) / (y1 - y0) * (bottom - top); };
    static const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#7f7f7f"};

    std::ostringstream out;
    out.precision(4);
    out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
        << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    out << "<text x=\"" << width / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" << escape(title) << "</text>\n";
    out << "<line x1=\"" << left << "\" y1=\"" << bottom << "\" x2=\"" << right << "\" y2=\"" << bottom << "\" stroke=\"black\"/>\n";
    out << "<line x1=\"" << left << "\" y1=\"" << top << "\" x2=\"" << left << "\" y2=\"" << bottom << "\" stroke=\"black\"/>\n";
    for (int i = 0; i <= 5; ++i) {
      const double xv = x0 + (x1 - x0) * i / 5, yv = y0 + (y1 - y0) * i / 5;
      out << "<text x=\"" << px(xv) << "\" y=\"" << bottom + 16 << "\" text-anchor=\"middle\">" << tick(xv) << "</text>\n";
      out << "<text x=\"" << left - 6 << "\" y=\"" << py(yv) + 4 << "\" text-anchor=\"end\">" << tick(yv) << "</text>\n";
      out << "<line x1=\"" << left << "\" y1=\"" << py(yv) << "\" x2=\"" << right << "\" y2=\"" << py(yv) << "\" stroke=\"#eee\"/>\n";
    }
    out << "<text x=\"" << (left + right) / 2 << "\" y=\"" << height - 15 << "\" text-anchor=\"middle\">" << escape(x_label) << "</text>\n";
    out << "<text transform=\"translate(18," << (top + bottom) / 2 << ") rotate(-90)\" text-anchor=\"middle\">" << escape(y_label) << "</text>\n";
    for (std::size_t k = 0; k < series.size(); ++k) {
      const PlotSeries& s = series[k];
      const char* colour = colours[k % 7];
      if (s.spread.size() == s.y.size() && !s.y.empty()) {  // band: upper edge forward, lower edge back
        out << "<polygon fill=\"" << colour << "\" fill-opacity=\"0.15\" stroke=\"none\" points=\"";
        for (std::size_t i = 0; i < s.x.size(); ++i) out << px(s.x[i]) << "," << py(s.y[i] + s.spread[i]) << " ";
        for (std::size_t i = s.x.size(); i-- > 0;) out << px(s.x[i]) << "," << py(s.y[i] - s.spread[i]) << " ";
        out << "\"/>\n";
      }
      out << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2\" points=\"";
      for (std::size_t i = 0; i < s.x.size(); ++i) out << px(s.x[i]) << "," << py(s.y[i]) << " ";
      out << "\"/>\n";
      for (std::size_t i = 0; i < s.x.size(); ++i)
        out << "<circle cx=\"" << px(s.x[i]) << "\" cy=\"" << py(s.y[i]) << "\" r=\"2.5\" fill=\"" << colour << "\"/>\n";
      const double ly = top + 10 + 20 * k;
      out << "<line x1=\"" << right + 15 << "\" y1=\"" << ly << "\" x2=\"" << right + 40 << "\" y2=\"" << ly
          << "\" stroke=\"" << colour << "\" stroke-width=\"3\"/>\n<text x=\"" << right + 46 << "\" y=\"" << ly + 4
          << "\">" << escape(s.name) << "</text>\n";
    }
    out << "</svg>\n";
    return out.str();
  }

  void write(const std::filesystem::path& path) const { write_file_atomically(path, svg()); }

 private:
  static std::string tick(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", std::abs(v) < 1e-12 ? 0.0 : v);
    return text;
  }
  static std::string escape(const std::string& text) {
    std::string out;
    for (char c : text) {
      if (c == '<') out += "&lt;";
      else if (c == '>') out += "&gt;";
      else if (c == '&') out += "&amp;";
      else if (c == '"') out += "&quot;";
      else out += c;
    }
    return out;
  }
};

}  // namespace tlcr
