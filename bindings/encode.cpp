// Encoder bindings: Python feeds numpy pictures, the encode runs without the GIL.
#include <pybind11/stl.h>

#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

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

hevc::SliceType slice_type_from(const std::string& s) {
  if (s == "I") return hevc::SliceType::I;
  if (s == "P") return hevc::SliceType::P;
  if (s == "B") return hevc::SliceType::B;
  throw std::invalid_argument("slice_type must be 'I', 'P' or 'B', got '" + s + "'");
}

// The picture `encode` is asked for: each field left None is All-Intra's for the next picture
// (Encoder::next_all_intra).
hevc::PictureDesc describe(const hevc::Encoder& enc, std::optional<int> poc,
                           std::optional<std::string> slice_type, std::optional<int> qp,
                           std::optional<int> nal_type, std::optional<int> temporal_id,
                           std::optional<std::vector<int>> refs,
                           std::optional<std::vector<int>> ref_used,
                           std::optional<std::pair<int, int>> num_ref_active,
                           std::optional<double> lambda_factor) {
  hevc::PictureDesc desc = enc.next_all_intra();
  if (poc) desc.poc = *poc;
  if (slice_type) desc.slice_type = slice_type_from(*slice_type);
  if (qp) desc.qp = *qp;
  if (nal_type) {
    if (*nal_type < 0 || *nal_type > 63)
      throw std::invalid_argument("nal_type must be in 0..63, got " + std::to_string(*nal_type));
    desc.nal_type = static_cast<uint8_t>(*nal_type);
  }
  if (temporal_id) desc.temporal_id = *temporal_id;
  if (refs) desc.ref_deltas = *refs;
  if (ref_used) desc.ref_used.assign(ref_used->begin(), ref_used->end());
  if (num_ref_active) {
    desc.num_ref_active[0] = num_ref_active->first;
    desc.num_ref_active[1] = num_ref_active->second;
  }
  if (lambda_factor) desc.lambda_factor = *lambda_factor;
  return desc;
}

py::dict encode_picture(hevc::Encoder& enc, Planes y, Planes u, Planes v, std::optional<int> poc,
                        std::optional<std::string> slice_type, std::optional<int> qp,
                        std::optional<int> nal_type, std::optional<int> temporal_id,
                        std::optional<std::vector<int>> refs,
                        std::optional<std::vector<int>> ref_used,
                        std::optional<std::pair<int, int>> num_ref_active,
                        std::optional<double> lambda_factor) {
  if (y.ndim() != 2 || u.ndim() != 2 || v.ndim() != 2)
    throw std::invalid_argument("planes must be 2-D arrays");
  const hevc::PictureDesc desc = describe(enc, poc, slice_type, qp, nal_type, temporal_id, refs,
                                          ref_used, num_ref_active, lambda_factor);
  hevc::EncodedFrame f;
  {
    py::gil_scoped_release release;
    f = enc.encode(desc, y.data(), static_cast<int>(y.strides(0)), u.data(),
                   static_cast<int>(u.strides(0)), v.data(), static_cast<int>(v.strides(0)));
  }
  py::dict d;
  d["poc"] = f.poc;
  d["slice_type"] = std::string(1, f.slice_type);
  d["qp"] = f.qp;
  d["nal_type"] = f.nal_type;
  d["temporal_id"] = f.temporal_id;
  d["refs"] = py::make_tuple(py::cast(f.refs[0]), py::cast(f.refs[1]));
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
      .def("encode", &encode_picture, py::arg("y"), py::arg("u"), py::arg("v"), py::kw_only(),
           py::arg("poc") = py::none(), py::arg("slice_type") = py::none(),
           py::arg("qp") = py::none(), py::arg("nal_type") = py::none(),
           py::arg("temporal_id") = py::none(), py::arg("refs") = py::none(),
           py::arg("ref_used") = py::none(), py::arg("num_ref_active") = py::none(),
           py::arg("lambda_factor") = py::none(),
           "Encode one picture (uint8 planes of the source size), the pictures in coding order; "
           "returns the access unit and stats. Each of poc, slice_type ('I'), qp, nal_type (the "
           "H.265 number) and temporal_id left None is All-Intra's for the next picture: an IDR "
           "first, then TRAIL_R at one past the greatest POC, the configured QP. P and B "
           "pictures give refs (the short-term RPS as POC deltas), ref_used (0/1 per ref; None: "
           "all used), num_ref_active (list sizes L0, L1) and lambda_factor (lambda = factor * "
           "2^((QP-12)/3); None: 0.57). A picture that cannot follow those coded so far raises "
           "ValueError.")
      .def(
          "record_coded_elsewhere",
          [](hevc::Encoder& enc, std::optional<int> poc, std::optional<std::string> slice_type,
             std::optional<int> qp, std::optional<int> nal_type, std::optional<int> temporal_id,
             std::optional<std::vector<int>> refs, std::optional<std::vector<int>> ref_used,
             std::optional<std::pair<int, int>> num_ref_active,
             std::optional<double> lambda_factor) {
            enc.record_coded_elsewhere(describe(enc, poc, slice_type, qp, nal_type, temporal_id,
                                                refs, ref_used, num_ref_active, lambda_factor));
          },
          py::kw_only(), py::arg("poc") = py::none(), py::arg("slice_type") = py::none(),
          py::arg("qp") = py::none(), py::arg("nal_type") = py::none(),
          py::arg("temporal_id") = py::none(), py::arg("refs") = py::none(),
          py::arg("ref_used") = py::none(), py::arg("num_ref_active") = py::none(),
          py::arg("lambda_factor") = py::none(),
          "Record a picture (described as for encode) as coded by another encoder of the same "
          "configuration (frame-parallel All-Intra): an I picture without references.")
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
