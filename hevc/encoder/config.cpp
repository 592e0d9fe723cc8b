#include "config.h"

#include <cmath>

namespace hevc {

namespace {

struct Field {
  const char* name;
  int EncoderConfig::*i;
  bool EncoderConfig::*b;
  double EncoderConfig::*d;
};

const Field kFields[] = {
    {"width", &EncoderConfig::width, nullptr, nullptr},
    {"height", &EncoderConfig::height, nullptr, nullptr},
    {"frame_rate", nullptr, nullptr, &EncoderConfig::frame_rate},
    {"qp", &EncoderConfig::qp, nullptr, nullptr},
    {"intra_period", &EncoderConfig::intra_period, nullptr, nullptr},
    {"decoding_refresh_type", &EncoderConfig::decoding_refresh_type, nullptr, nullptr},
    {"max_temporal_layers", &EncoderConfig::max_temporal_layers, nullptr, nullptr},
    {"num_reorder_pics", &EncoderConfig::num_reorder_pics, nullptr, nullptr},
    {"max_dec_pic_buffering", &EncoderConfig::max_dec_pic_buffering, nullptr, nullptr},
    {"max_cu_size", &EncoderConfig::max_cu_size, nullptr, nullptr},
    {"max_partition_depth", &EncoderConfig::max_partition_depth, nullptr, nullptr},
    {"tu_log2_max", &EncoderConfig::tu_log2_max, nullptr, nullptr},
    {"tu_log2_min", &EncoderConfig::tu_log2_min, nullptr, nullptr},
    {"tu_max_depth_intra", &EncoderConfig::tu_max_depth_intra, nullptr, nullptr},
    {"tu_max_depth_inter", &EncoderConfig::tu_max_depth_inter, nullptr, nullptr},
    {"rdoq", nullptr, &EncoderConfig::rdoq, nullptr},
    {"rdoq_ts", nullptr, &EncoderConfig::rdoq_ts, nullptr},
    {"transform_skip", nullptr, &EncoderConfig::transform_skip, nullptr},
    {"transform_skip_fast", nullptr, &EncoderConfig::transform_skip_fast, nullptr},
    {"sign_hide", nullptr, &EncoderConfig::sign_hide, nullptr},
    {"strong_intra_smoothing", nullptr, &EncoderConfig::strong_intra_smoothing, nullptr},
    {"sao", nullptr, &EncoderConfig::sao, nullptr},
    {"loop_filter_disable", nullptr, &EncoderConfig::loop_filter_disable, nullptr},
    {"loop_filter_offset_in_pps", nullptr, &EncoderConfig::loop_filter_offset_in_pps, nullptr},
    {"beta_offset_div2", &EncoderConfig::beta_offset_div2, nullptr, nullptr},
    {"tc_offset_div2", &EncoderConfig::tc_offset_div2, nullptr, nullptr},
    {"cb_qp_offset", &EncoderConfig::cb_qp_offset, nullptr, nullptr},
    {"cr_qp_offset", &EncoderConfig::cr_qp_offset, nullptr, nullptr},
    {"wpp", nullptr, &EncoderConfig::wpp, nullptr},
    {"slice_mode", &EncoderConfig::slice_mode, nullptr, nullptr},
    {"slice_argument", &EncoderConfig::slice_argument, nullptr, nullptr},
    {"slice_segment_mode", &EncoderConfig::slice_segment_mode, nullptr, nullptr},
    {"slice_segment_argument", &EncoderConfig::slice_segment_argument, nullptr, nullptr},
    {"lf_across_slices", nullptr, &EncoderConfig::lf_across_slices, nullptr},
    {"pcm", nullptr, &EncoderConfig::pcm, nullptr},
    {"pcm_log2_min", &EncoderConfig::pcm_log2_min, nullptr, nullptr},
    {"pcm_log2_max", &EncoderConfig::pcm_log2_max, nullptr, nullptr},
    {"pcm_filter_disable", nullptr, &EncoderConfig::pcm_filter_disable, nullptr},
    {"tile_columns_minus1", &EncoderConfig::tile_columns_minus1, nullptr, nullptr},
    {"tile_rows_minus1", &EncoderConfig::tile_rows_minus1, nullptr, nullptr},
    {"tile_uniform", nullptr, &EncoderConfig::tile_uniform, nullptr},
    {"lf_across_tiles", nullptr, &EncoderConfig::lf_across_tiles, nullptr},
    {"lambda_modifier", nullptr, nullptr, &EncoderConfig::lambda_modifier},
    {"hash", &EncoderConfig::hash, nullptr, nullptr},
    {"rmd_candidates_4x4", &EncoderConfig::rmd_candidates_4x4, nullptr, nullptr},
    {"rmd_candidates_small", &EncoderConfig::rmd_candidates_small, nullptr, nullptr},
    {"rmd_candidates_large", &EncoderConfig::rmd_candidates_large, nullptr, nullptr},
    {"chroma_rd_candidates", &EncoderConfig::chroma_rd_candidates, nullptr, nullptr},
    {"skip_split_if_no_residual", nullptr, &EncoderConfig::skip_split_if_no_residual, nullptr},
    {"skip_tu_split_if_no_residual", nullptr, &EncoderConfig::skip_tu_split_if_no_residual,
     nullptr},
    {"skip_nxn_if_no_residual", nullptr, &EncoderConfig::skip_nxn_if_no_residual, nullptr},
    {"transform_skip_final_only", nullptr, &EncoderConfig::transform_skip_final_only, nullptr},
    {"max_cu_log2_tried", &EncoderConfig::max_cu_log2_tried, nullptr, nullptr},
    {"rmd_fast", nullptr, &EncoderConfig::rmd_fast, nullptr},
    {"prev_tree_up", &EncoderConfig::prev_tree_up, nullptr, nullptr},
    {"prev_tree_down", &EncoderConfig::prev_tree_down, nullptr, nullptr},
    {"prev_tree_max_diff", &EncoderConfig::prev_tree_max_diff, nullptr, nullptr},
    {"prev_tree_nxn", nullptr, &EncoderConfig::prev_tree_nxn, nullptr},
    {"prev_tree_refresh", &EncoderConfig::prev_tree_refresh, nullptr, nullptr},
    {"search_range", &EncoderConfig::search_range, nullptr, nullptr},
    {"bipred_search_range", &EncoderConfig::bipred_search_range, nullptr, nullptr},
    {"fast_search", nullptr, &EncoderConfig::fast_search, nullptr},
    {"hadamard_me", nullptr, &EncoderConfig::hadamard_me, nullptr},
    {"fast_encoder", nullptr, &EncoderConfig::fast_encoder, nullptr},
    {"fast_decision_merge", nullptr, &EncoderConfig::fast_decision_merge, nullptr},
    {"early_cu", nullptr, &EncoderConfig::early_cu, nullptr},
    {"early_skip", nullptr, &EncoderConfig::early_skip, nullptr},
    {"cbf_fast_mode", nullptr, &EncoderConfig::cbf_fast_mode, nullptr},
    {"amp", nullptr, &EncoderConfig::amp, nullptr},
    {"tmvp", nullptr, &EncoderConfig::tmvp, nullptr},
    {"max_merge_cand", &EncoderConfig::max_merge_cand, nullptr, nullptr},
    {"cnn_mode", &EncoderConfig::cnn_mode, nullptr, nullptr},
    {"cnn_force_off", nullptr, &EncoderConfig::cnn_force_off, nullptr},
    {"reuse_trials", nullptr, &EncoderConfig::reuse_trials, nullptr},
    {"exact_shortcuts", nullptr, &EncoderConfig::exact_shortcuts, nullptr},
};

}  // namespace

bool EncoderConfig::set(const std::string& field, double value) {
  // The tile size arrays, one setting per entry: tile_column_width_K, tile_row_height_K.
  auto entry = [&](const std::string& prefix, int* arr, size_t n) {
    if (field.compare(0, prefix.size(), prefix) != 0) return false;
    const std::string idx = field.substr(prefix.size());
    if (idx.empty() || idx.size() > 2 || idx.find_first_not_of("0123456789") != std::string::npos)
      return false;
    const size_t k = std::stoul(idx);
    if (k >= n) return false;
    arr[k] = static_cast<int>(std::lround(value));
    return true;
  };
  if (entry("tile_column_width_", tile_column_width.data(), tile_column_width.size()) ||
      entry("tile_row_height_", tile_row_height.data(), tile_row_height.size()))
    return true;
  for (const Field& f : kFields) {
    if (field != f.name) continue;
    if (f.i) this->*f.i = static_cast<int>(std::lround(value));
    if (f.b) this->*f.b = value != 0;
    if (f.d) this->*f.d = value;
    return true;
  }
  return false;
}

}  // namespace hevc
