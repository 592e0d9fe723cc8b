// Decoder bindings: the decode runs without the GIL and calls back into Python once per picture.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "decoder.h"
#include "header_edit.h"
#include "nal.h"

namespace {

const char* hash_name(hevc::HashStatus s) {
  switch (s) {
    case hevc::HashStatus::Ok:
      return "OK";
    case hevc::HashStatus::Mismatch:
      return "MISMATCH";
    case hevc::HashStatus::NotChecked:
      return "not checked";
    default:
      return "absent";
  }
}

py::dict report_dict(const hevc::PictureReport& r) {
  py::dict d;
  d["poc"] = r.poc;
  d["decode_order"] = r.decode_order;
  d["nal_type"] = r.nal_type;
  d["slice_type"] = std::string(1, r.slice_type);
  d["qp"] = r.qp;
  d["hash"] = hash_name(r.hash);
  d["expected_hash"] = r.expected;
  d["computed_hash"] = r.computed;
  d["seconds"] = r.seconds;
  d["cnn_seconds"] = r.cnn_seconds;
  d["cnn_ctus"] = r.cnn_ctus;
  d["ctus"] = r.ctus;
  d["cnn_ignored"] = r.cnn_ignored;
  d["width"] = r.width;
  d["height"] = r.height;
  d["refs"] = py::make_tuple(py::cast(r.refs[0]), py::cast(r.refs[1]));
  d["num_units_in_tick"] = r.num_units_in_tick;
  d["time_scale"] = r.time_scale;
  return d;
}

void decode(py::buffer data, py::object on_decoded, py::object on_output, py::object cnn,
            bool ignore_cnn, bool verify_hash) {
  py::buffer_info info = data.request();
  const auto* bytes = static_cast<const uint8_t*>(info.ptr);
  const size_t size = static_cast<size_t>(info.size * info.itemsize);
  hevc::Decoder dec;
  dec.ignore_cnn = ignore_cnn;
  dec.verify_hash = verify_hash;
  if (!cnn.is_none()) dec.cnn_provider = cnn_provider_from(cnn);
  if (!on_decoded.is_none()) {
    dec.on_decoded = [&](const hevc::PictureReport& r) {
      py::gil_scoped_acquire gil;
      on_decoded(report_dict(r));
    };
  }
  if (!on_output.is_none()) {
    dec.on_output = [&](const hevc::OutputPicture& o) {
      py::gil_scoped_acquire gil;
      py::capsule owner = keep_alive(o.frame);
      py::list planes;
      for (int c = 0; c < 3; ++c) {
        const int sh = c ? 1 : 0;
        const hevc::Plane& p = o.frame->planes[c];
        const int x0 = o.crop_left >> sh, y0 = o.crop_top >> sh;
        const int w = p.width - ((o.crop_left + o.crop_right) >> sh);
        const int h = p.height - ((o.crop_top + o.crop_bottom) >> sh);
        planes.append(plane_view(p, owner, x0, y0, w, h));
      }
      on_output(o.poc, o.decode_order, planes);
    };
  }
  py::gil_scoped_release release;
  dec.decode(bytes, size);
  dec.finish();
}

}  // namespace

py::list nal_units(py::buffer data) {
  py::buffer_info info = data.request();
  py::list out;
  for (const hevc::NalSpan& s : hevc::split_annexb(
           static_cast<const uint8_t*>(info.ptr), static_cast<size_t>(info.size * info.itemsize))) {
    if (s.size < 2) continue;
    out.append(py::make_tuple((s.data[0] >> 1) & 0x3f,
                              py::bytes(reinterpret_cast<const char*>(s.data), s.size)));
  }
  return out;
}

py::bytes edit_headers(py::buffer data, const std::string& edit) {
  py::buffer_info info = data.request();
  const hevc::HeaderEdit e = hevc::parse_header_edit(edit);
  std::vector<uint8_t> out;
  {
    py::gil_scoped_release release;
    out = hevc::edit_headers(static_cast<const uint8_t*>(info.ptr),
                             static_cast<size_t>(info.size * info.itemsize), e);
  }
  return py::bytes(reinterpret_cast<const char*>(out.data()), out.size());
}

void register_decode(py::module_& m) {
  m.def("edit_headers", &edit_headers, py::arg("data"), py::arg("edit"),
        "Rewrite a stream's parameter sets and slice headers, its slice data unchanged, to use "
        "a header feature: 'list-modification', 'long-term', 'pic-output' or "
        "'no-output-of-prior-pics' (hevc/header_edit.h). A test tool: the edits that change "
        "the decoded pictures drop the SEI messages.");
  m.def("nal_units", &nal_units, py::arg("data"),
        "Split an Annex B stream into (nal_unit_type, NAL unit bytes with header) pairs.");
  m.def(
      "decode", &decode, py::arg("data"), py::arg("on_decoded") = py::none(),
      py::arg("on_output") = py::none(), py::arg("cnn") = py::none(), py::arg("ignore_cnn") = false,
      py::arg("verify_hash") = true,
      "Decode an Annex B stream. on_decoded(report: dict) is called per picture in decoding "
      "order; on_output(poc, decode_order, [y, u, v]) per picture in output order with "
      "read-only zero-copy views of the cropped planes, valid while referenced. cnn(y, u, v, info) "
      "filters pictures that the stream marks for the in-loop CNN; ignore_cnn decodes them "
      "with the standard filters alone. verify_hash=False reads the decoded-picture-hash SEIs "
      "without verifying them (faster; such pictures report 'not checked').");
}
