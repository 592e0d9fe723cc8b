// Adapts a Python callable to the codec's per-picture CNN provider. The callable runs on the
// calling thread with the GIL held only for the call:
//   fn(y, u, v, info) -> (y_out, u_out | None, v_out | None)
// y/u/v are read-only zero-copy views of the reconstruction before deblocking, valid during the
// call; info holds qp, slice_type, poc, chroma (whether chroma output is wanted) and, in the
// decoder, identity (bytes) and inference_mode from the stream's SEI, and need_luma/need_chroma
// ((CTU rows, CTU columns) uint8 flags) with ctu_size, so that units no flag selects are skipped.
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

}  // namespace

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
    if (req.side) {
      py::dict side;
      side["qp_map"] = plane_view(req.side->qp, no_owner);
      side["mode"] = plane_view(req.side->mode, no_owner);
      side["boundary"] = plane_view(req.side->boundary, no_owner);
      side["bs"] = plane_view(req.side->bs, no_owner);
      info["side"] = side;
    }
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
