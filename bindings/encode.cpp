// Encoder bindings: Python feeds numpy pictures, the encode runs without the GIL.
#include <pybind11/stl.h>

#include <cstring>
#include <stdexcept>

#include "bindings.h"
#include "cnn_signal.h"
#include "encoder/encoder.h"

namespace {

hevc::EncoderConfig config_from_dict(const py::dict& d) {
  hevc::EncoderConfig c;
  for (auto item : d) {
    const std::string k = py::str(item.first);
    if (!c.set(k, item.second.cast<double>()))
      throw std::invalid_argument("unknown encoder setting '" + k + "'");
  }
  return c;
}

using Planes = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;

py::dict encode_picture(hevc::Encoder& enc, Planes y, Planes u, Planes v) {
  if (y.ndim() != 2 || u.ndim() != 2 || v.ndim() != 2)
    throw std::invalid_argument("planes must be 2-D arrays");
  hevc::EncodedFrame f;
  {
    py::gil_scoped_release release;
    f = enc.encode(y.data(), static_cast<int>(y.strides(0)), u.data(),
                   static_cast<int>(u.strides(0)), v.data(), static_cast<int>(v.strides(0)));
  }
  py::dict d;
  d["poc"] = f.poc;
  d["slice_type"] = std::string(1, f.slice_type);
  d["qp"] = f.qp;
  d["bits"] = f.bits;
  d["sse"] = py::make_tuple(f.sse[0], f.sse[1], f.sse[2]);
  d["seconds"] = f.seconds;
  d["bytes"] = py::bytes(reinterpret_cast<const char*>(f.bytes.data()), f.bytes.size());
  d["ctus"] = f.ctus;
  d["cnn_ctus"] = f.cnn_ctus;
  d["cnn_mode"] = f.cnn_mode;
  d["cnn_flag_bits"] = f.cnn_flag_bits;
  d["cnn_seconds"] = f.cnn_seconds;
  return d;
}

}  // namespace

void register_encode(py::module_& m) {
  py::class_<hevc::Encoder>(m, "Encoder")
      .def(py::init([](const py::dict& cfg) { return new hevc::Encoder(config_from_dict(cfg)); }),
           py::arg("config"))
      .def("encode", &encode_picture, py::arg("y"), py::arg("u"), py::arg("v"),
           "Encode one picture (uint8 planes of the source size); returns the access unit and "
           "stats.")
      .def(
          "set_cnn",
          [](hevc::Encoder& e, py::object fn, py::bytes identity,
             const std::string& inference_mode) {
            const std::string id = identity;
            if (id.size() != 16)
              throw std::invalid_argument("the model set identity must be 16 bytes");
            hevc::CnnSei sei;
            std::copy(id.begin(), id.end(), sei.identity.begin());
            sei.inference_mode = inference_mode;
            e.set_cnn(cnn_provider_from(std::move(fn)), sei);
          },
          py::arg("filter"), py::arg("identity"), py::arg("inference_mode"),
          "Enable the in-loop CNN: filter(y, u, v, info) -> (y, u|None, v|None).")
      .def(
          "cu_tree",
          [](const hevc::Encoder& e) {
            const hevc::CuTree& t = e.cu_tree();
            py::array_t<uint8_t> a({t.h8, t.w8});
            std::memcpy(a.mutable_data(), t.units.data(), t.units.size());
            return a;
          },
          "The last picture's coding tree: one byte per 8x8 unit (CU log2 size | PartMode << 4).")
      .def(
          "force_cu_tree",
          [](hevc::Encoder& e, Planes units) {
            if (units.ndim() != 2) throw std::invalid_argument("a CU tree is a 2-D array");
            hevc::CuTree t;
            t.h8 = static_cast<int>(units.shape(0));
            t.w8 = static_cast<int>(units.shape(1));
            t.units.assign(units.data(), units.data() + units.size());
            e.force_cu_tree(std::move(t));
          },
          py::arg("units"), "Code the next picture with this coding tree (as cu_tree() gives).")
      .def(
          "recon",
          [](const hevc::Encoder& e, int width, int height) {
            // A copy: the encoder reuses its buffers for the next picture.
            py::list out;
            for (int c = 0; c < 3; ++c) {
              const int sh = c ? 1 : 0;
              const hevc::Plane& p = e.recon().planes[c];
              py::array_t<uint8_t> a({height >> sh, width >> sh});
              auto r = a.mutable_unchecked<2>();
              for (int j = 0; j < (height >> sh); ++j)
                std::memcpy(r.mutable_data(j, 0), p.row(j), static_cast<size_t>(width >> sh));
              out.append(a);
            }
            return out;
          },
          py::arg("width"), py::arg("height"), "The last picture's reconstruction, cropped.");
}
