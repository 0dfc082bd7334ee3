// tlcr/nn/parameter_store.hpp — ParameterStore<T, D>: all of a model's parameters in one flat value
// buffer and one flat gradient buffer, each parameter a named view into both.
//
// Two phases. First every module registers its parameters with add(name, shape, group), which
// returns a Var handle at once. Then finalize() allocates the two flat buffers a single time and
// points every registered Var at its slice of them: from then on var.value() and var.grad() are
// views, so backward() writes gradients straight into grads(), and zero-grad, optimiser steps,
// clipping and checkpoint copies are single loops over values()/grads().
// Before finalize() a Var holds a private zero tensor of its shape (so shapes can be inspected);
// finalize() copies whatever it holds into the flat buffer. Tensors taken from var.value() before
// finalize() are therefore detached copies: take them afterwards.
// The buffers live on device D; initialisers draw on the host and upload one parameter at a time.
// Not here: modules or layer layouts (nn/), file formats (io/), the optimisers (optim/).
// Shape legend: N = numel() = the sum of all parameter sizes; values() and grads() are (N).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tlcr/autograd/var.hpp"
#include "tlcr/core/rng.hpp"

namespace tlcr {

// Which optimiser treatment a parameter gets: matrices decay, biases and norm gains usually do not.
enum class ParamGroup { Decay, NoDecay };

inline const char* param_group_name(ParamGroup group) {
  return group == ParamGroup::Decay ? "decay" : "no_decay";
}

template <class T, class D = Cpu>
class ParameterStore {
 public:
  // One registered parameter: where it lives in the flat buffers and the Var that views it.
  struct Parameter {
    std::string name;
    Shape shape;
    ParamGroup group = ParamGroup::Decay;
    int64_t offset = 0;  // index of its first element in values() and grads()
    Var<T, D> var;
    int64_t numel() const { return shape.numel(); }
  };

  ParameterStore() = default;
  ParameterStore(const ParameterStore&) = delete;  // copies would share Vars: use copy_values_from
  ParameterStore& operator=(const ParameterStore&) = delete;
  ParameterStore(ParameterStore&&) = default;
  ParameterStore& operator=(ParameterStore&&) = default;

  // Registers a parameter (before finalize()). The returned Var stays valid for the store's life.
  Var<T, D> add(std::string name, const Shape& shape, ParamGroup group = ParamGroup::Decay) {
    TLCR_CHECK(!finalized_, "ParameterStore::add: cannot register '", name, "' after finalize()");
    TLCR_CHECK(!name.empty(), "ParameterStore::add: empty parameter name");
    TLCR_CHECK(!contains(name), "ParameterStore::add: duplicate parameter name '", name, "'");
    Parameter entry{name, shape, group, numel_, tlcr::parameter(Tensor<T, D>(shape))};
    numel_ += shape.numel();
    index_.emplace(std::move(name), parameters_.size());
    parameters_.push_back(std::move(entry));
    return parameters_.back().var;
  }

  // Allocates the flat buffers once and turns every registered Var into a view of them.
  void finalize() {
    TLCR_CHECK(!finalized_, "ParameterStore::finalize: already finalized");
    values_ = Tensor<T, D>(Shape{numel_});
    grads_ = Tensor<T, D>(Shape{numel_});
    decay_mask_.assign(static_cast<std::size_t>(numel_), 0);
    for (Parameter& p : parameters_) {
      Tensor<T, D> value = values_.slice(p.offset, p.offset + p.numel()).reshape(p.shape);
      value.copy_from(p.var.value());  // keep anything written before finalize()
      Node<T, D>& node = p.var.node();
      node.value = std::move(value);
      node.grad = grads_.slice(p.offset, p.offset + p.numel()).reshape(p.shape);
      if (p.group == ParamGroup::Decay)
        std::fill_n(decay_mask_.begin() + p.offset, p.numel(), uint8_t{1});
    }
    decay_mask_tensor_ = Tensor<uint8_t, D>::from(Shape{numel_}, decay_mask_);
    finalized_ = true;
  }
  bool finalized() const { return finalized_; }

  // Lookup by name; unknown names throw. get() returns a copy of the handle, which shares the
  // parameter's value and gradient, so get(name).value() is writable.
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  const Parameter& info(const std::string& name) const { return parameters_[find(name)]; }
  Var<T, D> get(const std::string& name) const { return info(name).var; }

  // Every parameter, in registration order.
  const std::vector<Parameter>& parameters() const { return parameters_; }
  std::vector<std::string> names() const {
    std::vector<std::string> ordered;
    ordered.reserve(parameters_.size());
    for (const Parameter& p : parameters_) ordered.push_back(p.name);
    return ordered;
  }
  std::size_t size() const { return parameters_.size(); }  // number of parameters
  int64_t numel() const { return numel_; }                 // number of scalars

  // The flat buffers (N). Writing into them writes into every parameter.
  Tensor<T, D>& values() {
    require_finalized("values");
    return values_;
  }
  const Tensor<T, D>& values() const {
    require_finalized("values");
    return values_;
  }
  Tensor<T, D>& grads() {
    require_finalized("grads");
    return grads_;
  }
  const Tensor<T, D>& grads() const {
    require_finalized("grads");
    return grads_;
  }

  // decay_mask()[i] == 1 when flat element i belongs to a ParamGroup::Decay parameter, else 0.
  const std::vector<uint8_t>& decay_mask() const {
    require_finalized("decay_mask");
    return decay_mask_;
  }
  // The same mask on the device (N), for the optimisers' update kernels.
  const Tensor<uint8_t, D>& decay_mask_tensor() const {
    require_finalized("decay_mask_tensor");
    return decay_mask_tensor_;
  }

  // Sets every gradient to zero with one fill.
  void zero_grad() { grads().fill(T(0)); }

  // Initialisers for one parameter (before or after finalize()). init_normal draws N(0, stddev²)
  // element by element in row-major order, so the result depends only on rng's state.
  void init_normal(const std::string& name, double stddev, Rng& rng) {
    Tensor<T, D>& value = value_of(name);
    Tensor<T, Cpu> drawn(value.shape());
    for (T& x : drawn) x = static_cast<T>(stddev * rng.normal());
    value.copy_from(Tensor<T, D>::to_device(drawn));
  }
  void init_constant(const std::string& name, T constant) { value_of(name).fill(constant); }
  void init_zeros(const std::string& name) { init_constant(name, T(0)); }
  void init_ones(const std::string& name) { init_constant(name, T(1)); }

  // Copies every value from `other`, which must hold the same names with the same shapes.
  void copy_values_from(const ParameterStore& other) {
    require_finalized("copy_values_from");
    other.require_finalized("copy_values_from");
    TLCR_CHECK(other.size() == size(), "ParameterStore::copy_values_from: source has ",
               other.size(), " parameters, destination has ", size());
    for (Parameter& p : parameters_) {
      TLCR_CHECK(other.contains(p.name), "ParameterStore::copy_values_from: parameter '", p.name,
                 "' is missing from the source");
      const Parameter& source = other.info(p.name);
      if (!(source.shape == p.shape))
        detail::fail("ParameterStore::copy_values_from: parameter '", p.name, "' has shape ",
                     p.shape.str(), " but the source has ", source.shape.str());
      p.var.value().copy_from(source.var.value());
    }
  }

 private:
  std::size_t find(const std::string& name) const {
    auto it = index_.find(name);
    if (it == index_.end())
      detail::fail("ParameterStore: unknown parameter name '", name, "' (", size(),
                   " parameters registered)");
    return it->second;
  }
  Tensor<T, D>& value_of(const std::string& name) { return parameters_[find(name)].var.value(); }
  void require_finalized(const char* caller) const {
    TLCR_CHECK(finalized_, "ParameterStore::", caller, ": call finalize() first");
  }

  std::vector<Parameter> parameters_;
  std::map<std::string, std::size_t> index_;  // name -> position in parameters_
  int64_t numel_ = 0;
  bool finalized_ = false;
  Tensor<T, D> values_;
  Tensor<T, D> grads_;
  std::vector<uint8_t> decay_mask_;
  Tensor<uint8_t, D> decay_mask_tensor_;
};

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_NN_PARAMETER_STORE_INSTANCES(extern_, T) extern_ template class ParameterStore<T, Cpu>;
TLCR_DECLARE_INSTANCES(TLCR_NN_PARAMETER_STORE_INSTANCES)

}  // namespace tlcr
