// Shared helpers of the pybind11 module: numpy views of codec frames.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <memory>

#include "picture.h"

namespace py = pybind11;

// A zero-copy (height, width) uint8 view of a plane; `owner` keeps the memory alive.
inline py::array_t<uint8_t> plane_view(const hevc::Plane& p, py::object owner, int x0 = 0,
                                       int y0 = 0, int w = -1, int h = -1, bool writable = false) {
  if (w < 0) w = p.width - x0;
  if (h < 0) h = p.height - y0;
  auto* data = const_cast<uint8_t*>(p.buf.data()) + static_cast<size_t>(y0) * p.stride + x0;
  py::array_t<uint8_t> a({h, w}, {static_cast<py::ssize_t>(p.stride), py::ssize_t{1}}, data, owner);
  if (!writable)
    py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

template <class T>
py::capsule keep_alive(std::shared_ptr<T> ptr) {
  auto* holder = new std::shared_ptr<T>(std::move(ptr));
  return py::capsule(holder, [](void* p) { delete static_cast<std::shared_ptr<T>*>(p); });
}

namespace hevc {
struct CnnRequest;
}
#include <functional>
// A Python callable as the codec's per-picture CNN provider (see cnn.cpp).
std::function<bool(const hevc::CnnRequest&, hevc::Frame&)> cnn_provider_from(py::object fn);

void register_cnn(py::module_& m);
void register_decode(py::module_& m);
void register_encode(py::module_& m);
