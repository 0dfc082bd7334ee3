// ODR check: this file and odr_second_unit.cpp both include the umbrella header.
#include "support/testing.hpp"

double odr_unit_a();

TEST_CASE("the umbrella header links from two translation units") {
  CHECK(odr_unit_a() == 4.0);
  auto y = tlcr::parameter(tlcr::Tensor<double>::full({1}, 3.0));
  tlcr::backward(tlcr::sum(tlcr::scale(y, 2.0)));
  CHECK(y.grad()[0] == 2.0);
}
