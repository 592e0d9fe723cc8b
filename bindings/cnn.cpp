// Adapts a Python callable to the codec's per-picture CNN provider. The callable runs on the
// calling thread with the GIL held only for the call:
//   fn(y, u, v, info) -> (y_out, u_out | None, v_out | None)
// y/u/v are read-only zero-copy views of the reconstruction before deblocking, valid during the
// call; info holds qp, slice_type, poc, chroma (whether chroma output is wanted) and, in the
// decoder, identity (bytes) and inference_mode from the stream's SEI, and need_luma/need_chroma
// ((CTU rows, CTU columns) uint8 flags) with ctu_size, so that units no flag selects are skipped;
// info["side"] is a read-only mapping of the side planes (cnn_side.h), each computed when it is
// first read; the mapping is readable during the call only, the arrays it gave stay valid.
#include <algorithm>
#include <string>
#include <vector>

#include "bindings.h"
#include "cnn_signal.h"

namespace {

void copy_plane(const py::handle& obj, hevc::Plane& dst, const char* what) {
  auto a = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!a) throw std::invalid_argument(std::string("CNN filter returned a non-array ") + what);
  if (a.ndim() != 2 || a.shape(0) != dst.height || a.shape(1) != dst.width)
    throw std::invalid_argument(std::string("CNN filter returned ") + what + " of the wrong shape");
  for (int y = 0; y < dst.height; ++y)
    std::memcpy(dst.row(y), a.data(y, 0), static_cast<size_t>(dst.width));
}

// A (rows, cols) uint8 copy of per-CTU flags in raster order.
py::array_t<uint8_t> ctu_grid(const std::vector<uint8_t>& flags, int rows, int cols) {
  if (static_cast<size_t>(rows) * static_cast<size_t>(cols) != flags.size())
    throw std::logic_error("CTU flags do not match the picture's CTU grid");
  py::array_t<uint8_t> a({rows, cols});
  std::memcpy(a.mutable_data(), flags.data(), flags.size());
  return a;
}

// The side planes of one call as a mapping, computed as the filter reads them. Computing one
// needs the call's coding information: once the call returns, reading the mapping is an error
// (arrays already read stay valid: each owns its plane).
struct SidePlanes {
  hevc::CnnSideInfo* side = nullptr;
  py::array_t<uint8_t> get(const std::string& name) const {
    for (int i = 0; i < hevc::kSidePlaneCount; ++i) {
      const auto p = static_cast<hevc::SidePlane>(i);
      if (name != hevc::side_plane_name(p)) continue;
      if (!side) throw std::runtime_error("side planes are readable during the filter call only");
      // The view owns its plane: an array kept after the call stays valid.
      std::shared_ptr<const hevc::Plane> plane = side->get(p);
      return plane_view(*plane, keep_alive(plane));
    }
    throw py::key_error(name);
  }
};

std::vector<std::string> side_names() {
  std::vector<std::string> names;
  for (int i = 0; i < hevc::kSidePlaneCount; ++i)
    names.emplace_back(hevc::side_plane_name(static_cast<hevc::SidePlane>(i)));
  return names;
}

}  // namespace

void register_cnn(py::module_& m) {
  py::class_<SidePlanes>(m, "SidePlanes",
                         "The side planes of a picture (read-only mapping, valid during the "
                         "filter call); each plane is computed when it is first read.")
      .def("__getitem__", &SidePlanes::get)
      .def("__contains__",
           [](const SidePlanes&, const std::string& k) {
             const auto n = side_names();
             return std::find(n.begin(), n.end(), k) != n.end();
           })
      .def("__len__", [](const SidePlanes&) { return hevc::kSidePlaneCount; })
      .def("__iter__", [](const SidePlanes&) { return py::iter(py::cast(side_names())); })
      .def("keys", [](const SidePlanes&) { return side_names(); })
      .def("items", [](const SidePlanes& s) {
        py::list out;
        for (const auto& k : side_names()) out.append(py::make_tuple(k, s.get(k)));
        return out;
      });
}

hevc::CnnProvider cnn_provider_from(py::object fn) {
  return [fn](const hevc::CnnRequest& req, hevc::Frame& out) -> bool {
    py::gil_scoped_acquire gil;
    py::capsule no_owner(req.input, [](void*) {});
    py::dict info;
    info["qp"] = req.qp;
    info["slice_type"] = std::string(1, req.slice_type == hevc::SliceType::I   ? 'I'
                                        : req.slice_type == hevc::SliceType::P ? 'P'
                                                                               : 'B');
    info["poc"] = req.poc;
    info["chroma"] = req.chroma;
    py::object side_obj;
    if (req.side) {
      side_obj = py::cast(SidePlanes{req.side});
      info["side"] = side_obj;
    }
    // Whatever the call keeps of the mapping must not reach the planes after it returns.
    struct Expire {
      py::object& obj;
      ~Expire() {
        if (obj) obj.cast<SidePlanes&>().side = nullptr;
      }
    } expire{side_obj};
    if (req.need && !req.need->luma.empty()) {
      info["ctu_size"] = req.ctb_size;
      info["need_luma"] = ctu_grid(req.need->luma, req.h_ctb, req.w_ctb);
      info["need_chroma"] = ctu_grid(req.need->chroma, req.h_ctb, req.w_ctb);
    }
    if (req.sei) {
      info["identity"] = py::bytes(reinterpret_cast<const char*>(req.sei->identity.data()), 16);
      info["inference_mode"] = req.sei->inference_mode;
    }
    py::object res =
        fn(plane_view(req.input->planes[0], no_owner), plane_view(req.input->planes[1], no_owner),
           plane_view(req.input->planes[2], no_owner), info);
    py::tuple t = res.cast<py::tuple>();
    if (t.size() != 3) throw std::invalid_argument("CNN filter must return (y, u, v)");
    copy_plane(t[0], out.planes[0], "luma");
    if (t[1].is_none() || t[2].is_none()) return false;
    copy_plane(t[1], out.planes[1], "Cb");
    copy_plane(t[2], out.planes[2], "Cr");
    return true;
  };
}
