// The cnnfilter._hevc extension module: the C++ codec core exposed to Python.
#include <stdexcept>

#include "bindings.h"
#include "common.h"

PYBIND11_MODULE(_hevc, m) {
  m.doc() = "HEVC codec core of cnnfilter";
  auto base = py::register_exception<hevc::BitstreamError>(m, "BitstreamError", PyExc_ValueError);
  py::register_exception<hevc::UnsupportedError>(m, "UnsupportedError", base.ptr());
  // Settings and arguments the codec refuses: a user error, told apart from a ValueError of a bug.
  py::register_exception<std::invalid_argument>(m, "CodecArgumentError", PyExc_ValueError);
  register_cnn(m);
  register_decode(m);
  register_encode(m);
}
