// Downstream smoke program: include the umbrella header, differentiate x^2 at x = 3, expect 6.
// Built header-only and against the prebuilt instances (CMakeLists.txt): the double mul, sum and
// backward it calls are among them, so a missing instance fails the link.
#include <tlcr/tlcr.hpp>

#include <cstdio>

int main() {
  auto x = tlcr::parameter(tlcr::Tensor<double>::full({1}, 3.0));
  auto y = tlcr::sum(tlcr::mul(x, x));
  tlcr::backward(y);
  const double gradient = x.grad()[0];
  std::printf("d(x^2)/dx at 3 = %g\n", gradient);
  return gradient == 6.0 ? 0 : 1;
}
