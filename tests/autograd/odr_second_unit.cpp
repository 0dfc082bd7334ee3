// The second translation unit (with test_odr.cpp) that includes the umbrella header: linking both catches any
// non-inline definition in a header (an ODR violation shows up as a duplicate symbol).
#include <tlcr/tlcr.hpp>

double odr_unit_a() {
  auto x = tlcr::parameter(tlcr::Tensor<double>::full({1}, 2.0));
  tlcr::backward(tlcr::sum(tlcr::mul(x, x)));
  return x.grad()[0];
}
