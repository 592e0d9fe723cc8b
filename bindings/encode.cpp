// Encoder bindings: Python feeds numpy pictures, the encode runs without the GIL.
#include <pybind11/stl.h>

#include <stdexcept>

#include "bindings.h"
#include "encoder/encoder.h"

namespace {

hevc::EncoderConfig config_from_dict(const py::dict& d) {
  hevc::EncoderConfig c;
  for (auto item : d) {
    const std::string k = py::str(item.first);
    py::handle v = item.second;
    if (k == "width")
      c.width = v.cast<int>();
    else if (k == "height")
      c.height = v.cast<int>();
    else if (k == "frame_rate")
      c.frame_rate = v.cast<double>();
    else if (k == "qp")
      c.qp = v.cast<int>();
    else if (k == "intra_period")
      c.intra_period = v.cast<int>();
    else if (k == "decoding_refresh_type")
      c.decoding_refresh_type = v.cast<int>();
    else if (k == "max_cu_size")
      c.max_cu_size = v.cast<int>();
    else if (k == "max_partition_depth")
      c.max_partition_depth = v.cast<int>();
    else if (k == "tu_log2_max")
      c.tu_log2_max = v.cast<int>();
    else if (k == "tu_log2_min")
      c.tu_log2_min = v.cast<int>();
    else if (k == "tu_max_depth_intra")
      c.tu_max_depth_intra = v.cast<int>();
    else if (k == "tu_max_depth_inter")
      c.tu_max_depth_inter = v.cast<int>();
    else if (k == "rdoq")
      c.rdoq = v.cast<bool>();
    else if (k == "rdoq_ts")
      c.rdoq_ts = v.cast<bool>();
    else if (k == "transform_skip")
      c.transform_skip = v.cast<bool>();
    else if (k == "transform_skip_fast")
      c.transform_skip_fast = v.cast<bool>();
    else if (k == "sign_hide")
      c.sign_hide = v.cast<bool>();
    else if (k == "strong_intra_smoothing")
      c.strong_intra_smoothing = v.cast<bool>();
    else if (k == "sao")
      c.sao = v.cast<bool>();
    else if (k == "loop_filter_disable")
      c.loop_filter_disable = v.cast<bool>();
    else if (k == "loop_filter_offset_in_pps")
      c.loop_filter_offset_in_pps = v.cast<bool>();
    else if (k == "beta_offset_div2")
      c.beta_offset_div2 = v.cast<int>();
    else if (k == "tc_offset_div2")
      c.tc_offset_div2 = v.cast<int>();
    else if (k == "cb_qp_offset")
      c.cb_qp_offset = v.cast<int>();
    else if (k == "cr_qp_offset")
      c.cr_qp_offset = v.cast<int>();
    else if (k == "wpp")
      c.wpp = v.cast<bool>();
    else if (k == "hash")
      c.hash = v.cast<int>();
    else if (k == "rmd_candidates_small")
      c.rmd_candidates_small = v.cast<int>();
    else if (k == "rmd_candidates_large")
      c.rmd_candidates_large = v.cast<int>();
    else if (k == "fast_rqt")
      c.fast_rqt = v.cast<bool>();
    else
      throw std::invalid_argument("unknown encoder setting '" + k + "'");
  }
  return c;
}

using Planes = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;

py::dict encode_picture(hevc::Encoder& enc, Planes y, Planes u, Planes v) {
  const auto& cfg_w = enc.sps();
  (void)cfg_w;
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
