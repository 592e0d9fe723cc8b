// hevc-decode: decodes an Annex B stream to raw I420 without Python, for the sanitizer build
// and for benchmarks. Usage: hevc-decode -b stream.bin [-o out.yuv] [-q]
//
// Exit codes as `cnnfilter decode`: 0 success, 1 a decoded-picture hash mismatch, 2 a corrupt
// stream or a bad file (one "error:" line), 3 a bug. The output is written to a unique temporary
// file next to it and renamed only when the whole stream decoded, so it never appears partial.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "decoder.h"

namespace {

constexpr const char* kUsage = "usage: hevc-decode -b stream.bin [-o out.yuv] [-q]\n";

// The temporary's name for the signal handler (unlink is async-signal-safe, std::remove is not
// guaranteed to be): an interrupted decode leaves no temporary behind either.
char g_tmp_name[4096];

extern "C" void remove_tmp_and_die(int sig) {
  if (g_tmp_name[0]) unlink(g_tmp_name);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// A temporary file in the destination's folder: a name this process created (so removing it
// never touches a user's file), renamed over the destination on commit.
class TempOutput {
 public:
  // Returns an error message, empty on success.
  std::string open(const std::string& dest) {
    dest_ = dest;
    struct stat st;
    if (stat(dest.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return dest + ": is a folder";
    const size_t slash = dest.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : dest.substr(0, slash + 1);
    const std::string base = slash == std::string::npos ? dest : dest.substr(slash + 1);
    std::vector<char> name(dir.begin(), dir.end());
    const std::string rest = "." + base + ".XXXXXX.part";
    name.insert(name.end(), rest.begin(), rest.end());
    name.push_back('\0');
    const int fd = mkstemps(name.data(), 5);
    if (fd < 0) return dest + ": cannot create a file there (" + std::strerror(errno) + ")";
    tmp_ = name.data();
    if (tmp_.size() < sizeof g_tmp_name) {
      std::memcpy(g_tmp_name, tmp_.c_str(), tmp_.size() + 1);
      for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, remove_tmp_and_die);
    }
    file_ = fdopen(fd, "wb");
    if (!file_) {
      close(fd);
      discard();
      return dest + ": cannot write (" + std::strerror(errno) + ")";
    }
    return "";
  }
  FILE* file() const { return file_; }
  std::string commit() {
    const bool write_ok = !std::ferror(file_);
    const bool close_ok = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!write_ok || !close_ok) {
      const std::string why = std::strerror(errno);
      discard();
      return dest_ + ": writing failed (" + why + ")";
    }
    if (std::rename(tmp_.c_str(), dest_.c_str()) != 0) {
      const std::string why = std::strerror(errno);
      discard();
      return dest_ + ": cannot rename the finished output into place (" + why + ")";
    }
    g_tmp_name[0] = '\0';  // after the rename: a signal in between finds no temporary
    tmp_.clear();
    return "";
  }
  void discard() {
    g_tmp_name[0] = '\0';
    if (file_) std::fclose(file_);
    file_ = nullptr;
    if (!tmp_.empty()) std::remove(tmp_.c_str());
    tmp_.clear();
  }
  ~TempOutput() { discard(); }

 private:
  std::string dest_, tmp_;
  FILE* file_ = nullptr;
};

// One line, whatever the message holds (it may quote a file name).
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const char* in = nullptr;
  const char* out = nullptr;
  bool quiet = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "-b") && i + 1 < argc)
      in = argv[++i];
    else if (!std::strcmp(argv[i], "-o") && i + 1 < argc)
      out = argv[++i];
    else if (!std::strcmp(argv[i], "-q"))
      quiet = true;
    else {
      std::fprintf(stderr, "%s", kUsage);
      return 2;
    }
  }
  if (!in) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  struct stat st;
  if (stat(in, &st) == 0 && S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "error: %s: is a folder, not a bitstream\n", one_line(in).c_str());
    return 2;
  }
  std::ifstream f(in, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "error: cannot open %s\n", one_line(in).c_str());
    return 2;
  }
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  TempOutput output;
  if (out) {
    const std::string err = output.open(out);
    if (!err.empty()) {
      std::fprintf(stderr, "error: %s\n", one_line(err).c_str());
      return 2;
    }
  }
  FILE* fo = out ? output.file() : nullptr;
  int mismatches = 0;
  hevc::Decoder dec;
  dec.on_decoded = [&](const hevc::PictureReport& r) {
    const char* h = r.hash == hevc::HashStatus::Ok
                        ? "OK"
                        : (r.hash == hevc::HashStatus::Mismatch ? "MISMATCH" : "absent");
    if (r.hash == hevc::HashStatus::Mismatch) ++mismatches;
    if (!quiet) std::printf("POC %4d %c-SLICE QP %2d hash %s\n", r.poc, r.slice_type, r.qp, h);
  };
  dec.on_output = [&](const hevc::OutputPicture& o) {
    if (!fo) return;
    for (int c = 0; c < 3; ++c) {
      const hevc::Plane& p = o.frame->planes[c];
      const int sh = c ? 1 : 0;
      const int x0 = o.crop_left >> sh, y0 = o.crop_top >> sh;
      const int w = p.width - ((o.crop_left + o.crop_right) >> sh);
      const int h = p.height - ((o.crop_top + o.crop_bottom) >> sh);
      for (int y = 0; y < h; ++y) std::fwrite(p.row(y0 + y) + x0, 1, w, fo);
    }
  };
  try {
    dec.decode(data.data(), data.size());
    dec.finish();
  } catch (const hevc::BitstreamError& e) {
    std::fprintf(stderr, "error: %s: %s\n", one_line(in).c_str(), one_line(e.what()).c_str());
    return 2;  // ~TempOutput removes the partial output
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal error (a bug in hevc-decode, please report it): %s\n",
                 one_line(e.what()).c_str());
    return 3;
  }
  if (out) {
    const std::string err = output.commit();
    if (!err.empty()) {
      std::fprintf(stderr, "error: %s\n", one_line(err).c_str());
      return 2;
    }
  }
  return mismatches ? 1 : 0;
}
