// tlcr/autograd/gradcheck.hpp — finite-difference check of reverse-mode gradients, in double.
//
// gradcheck(f, inputs) evaluates out = f() once with gradients, back-propagates a fixed random seed
// r (so loss = Σ r ⊙ out exercises every output element), then compares each input gradient with
// central differences (loss(x+ε) − loss(x−ε)) / 2ε. Per input it reports the relative error
// ‖g − ĝ‖ / max(‖g‖ + ‖ĝ‖, tiny). Elements at a kink (the one-sided slopes disagree) are skipped
// and counted, so relu, clamp and max can be checked on random inputs.
// Not here: float checks (too imprecise for finite differences).
#pragma once

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "tlcr/autograd/var.hpp"
#include "tlcr/core/rng.hpp"

namespace tlcr {

struct GradcheckOptions {
  double epsilon = 1e-6;         // finite-difference step
  double tolerance = 1e-6;       // maximum accepted relative error
  double kink_threshold = 1e-3;  // skip when |right slope − left slope| exceeds this (relative)
  uint64_t seed = 12345;         // for the random output seed r
  std::vector<std::string> names;  // optional input names for the report
};

struct GradcheckReport {
  struct InputResult {
    std::string name;
    double relative_error = 0;
    double max_abs_error = 0;
    int64_t checked = 0, skipped_kinks = 0;
    bool ok = true;
  };
  std::vector<InputResult> inputs;
  bool ok = true;

  std::string str() const {
    std::ostringstream text;
    for (const auto& in : inputs)
      text << in.name << ": relative error " << in.relative_error << ", max abs error "
           << in.max_abs_error << ", " << in.checked << " checked, " << in.skipped_kinks
           << " kinks skipped" << (in.ok ? "" : "  <-- FAILED") << "\n";
    return text.str();
  }
};

// f: () -> Var<double>, built from `inputs` (parameters whose values gradcheck perturbs in place).
inline GradcheckReport gradcheck(const std::function<Var<double>()>& f,
                                 const std::vector<Var<double>>& inputs,
                                 const GradcheckOptions& options = {}) {
  clear_tape<double>();
  Var<double> out = f();
  Rng rng(options.seed);
  Tensor<double> seed(out.shape());
  for (double& r : seed) r = rng.normal();
  for (const auto& input : inputs) input.grad().fill(0);
  backward(out, seed);

  auto loss_at = [&] {
    NoGrad no_grad;
    const Var<double> y = f();
    check_same_shape("gradcheck", y.shape(), seed.shape(), "f()", "first f()");
    return y.value().vector().dot(seed.vector());
  };
  const double loss0 = loss_at();

  GradcheckReport report;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    GradcheckReport::InputResult result;
    result.name = i < options.names.size() ? options.names[i] : "input " + std::to_string(i);
    Tensor<double>& x = inputs[i].node().value;
    const Tensor<double>& analytic = inputs[i].grad();
    double diff2 = 0, analytic2 = 0, numeric2 = 0;
    for (int64_t j = 0; j < x.numel(); ++j) {
      const double saved = x.data()[j];
      x.data()[j] = saved + options.epsilon;
      const double plus = loss_at();
      x.data()[j] = saved - options.epsilon;
      const double minus = loss_at();
      x.data()[j] = saved;
      const double right = (plus - loss0) / options.epsilon, left = (loss0 - minus) / options.epsilon;
      if (std::abs(right - left) > options.kink_threshold * std::max(1.0, std::abs(right) + std::abs(left))) {
        ++result.skipped_kinks;
        continue;
      }
      const double numeric = (plus - minus) / (2 * options.epsilon);
      const double a = analytic.data()[j];
      diff2 += (a - numeric) * (a - numeric);
      analytic2 += a * a;
      numeric2 += numeric * numeric;
      result.max_abs_error = std::max(result.max_abs_error, std::abs(a - numeric));
      ++result.checked;
    }
    const double denominator = std::max(std::sqrt(analytic2) + std::sqrt(numeric2), 1e-12);
    result.relative_error = std::sqrt(diff2) / denominator;
    result.ok = result.relative_error <= options.tolerance && result.checked > 0;
    report.ok = report.ok && result.ok;
    report.inputs.push_back(result);
  }
  return report;
}

}  // namespace tlcr
