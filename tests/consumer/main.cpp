// Downstream smoke program: include the umbrella header, differentiate x^2 at x = 3, expect 6.
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
