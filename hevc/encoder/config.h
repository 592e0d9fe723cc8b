// Encoder configuration, named after the HM configuration keys it mirrors.
#pragma once

#include <array>
#include <string>

namespace hevc {

struct EncoderConfig {
  // Source and structure.
  int width = 0, height = 0;      // SourceWidth / SourceHeight
  double frame_rate = 25;         // FrameRate
  int qp = 32;                    // QP
  int intra_period = 1;           // IntraPeriod (1 = All-Intra)
  int decoding_refresh_type = 0;  // DecodingRefreshType: 0 IDR first, then non-IRAP I pictures
  // What the pictures' coding order needs (HM derives them from its GOP table): sub-layers
  // (TemporalIds 0..max_temporal_layers - 1), sps_max_num_reorder_pics and
  // sps_max_dec_pic_buffering_minus1 + 1.
  int max_temporal_layers = 1;
  int num_reorder_pics = 0;
  int max_dec_pic_buffering = 1;
  // Partitioning.
  int max_cu_size = 64;         // MaxCUWidth / MaxCUHeight
  int max_partition_depth = 4;  // MaxPartitionDepth (64 -> 8)
  int tu_log2_max = 5;          // QuadtreeTULog2MaxSize
  int tu_log2_min = 2;          // QuadtreeTULog2MinSize
  int tu_max_depth_intra = 3;   // QuadtreeTUMaxDepthIntra (levels of the RQT, HM counting)
  int tu_max_depth_inter = 3;   // QuadtreeTUMaxDepthInter
  // Coding tools.
  bool rdoq = true;                       // RDOQ
  bool rdoq_ts = true;                    // RDOQTS
  bool transform_skip = true;             // TransformSkip
  bool transform_skip_fast = true;        // TransformSkipFast
  bool sign_hide = true;                  // SignHideFlag
  bool strong_intra_smoothing = true;     // StrongIntraSmoothing
  bool sao = true;                        // SAO
  bool loop_filter_disable = false;       // LoopFilterDisable
  bool loop_filter_offset_in_pps = true;  // LoopFilterOffsetInPPS
  int beta_offset_div2 = 0;               // LoopFilterBetaOffset_div2
  int tc_offset_div2 = 0;                 // LoopFilterTcOffset_div2
  int cb_qp_offset = 0;                   // CbQpOffset
  int cr_qp_offset = 0;                   // CrQpOffset
  bool wpp = false;                       // WaveFrontSynchro
  // Slices: a slice every slice_argument CTUs (tile scan) with mode 1, a dependent slice segment
  // every slice_segment_argument CTUs within it with segment mode 1.
  int slice_mode = 0;                 // SliceMode
  int slice_argument = 1500;          // SliceArgument
  int slice_segment_mode = 0;         // SliceSegmentMode
  int slice_segment_argument = 1500;  // SliceSegmentArgument
  bool lf_across_slices = true;       // LFCrossSliceBoundaryFlag
  // PCM: CUs of these sizes may be coded as raw 8-bit samples when that costs less.
  bool pcm = false;                 // PCMEnabledFlag
  int pcm_log2_min = 3;             // PCMLog2MinSize
  int pcm_log2_max = 5;             // PCMLog2MaxSize
  bool pcm_filter_disable = false;  // PCMFilterDisableFlag: no deblocking or SAO of PCM samples
  // Tiles (Main: not with WPP; each column at least 256 luma samples wide, each row 64 high).
  int tile_columns_minus1 = 0;              // NumTileColumnsMinus1
  int tile_rows_minus1 = 0;                 // NumTileRowsMinus1
  bool tile_uniform = false;                // TileUniformSpacing
  bool lf_across_tiles = true;              // LFCrossTileBoundaryFlag
  std::array<int, 19> tile_column_width{};  // TileColumnWidthArray (CTUs; the last is the rest)
  std::array<int, 21> tile_row_height{};    // TileRowHeightArray
  double lambda_modifier = 1;               // LambdaModifier0: scales lambda (temporal layer 0)
  int hash = 1;  // SEIDecodedPictureHash: 0 off, 1 MD5, 2 CRC, 3 checksum
  // Inter coding.
  int search_range = 64;            // SearchRange: integer motion search window (luma samples)
  int bipred_search_range = 4;      // BipredSearchRange: window of the bi-prediction refinement
  bool fast_search = true;          // FastSearch: pattern search (TZ) instead of a full search
  bool hadamard_me = true;          // HadamardME: SATD for the fractional refinement
  bool fast_encoder = true;         // FEN: fast encoder decisions
  bool fast_decision_merge = true;  // FDM: early skip decision after the merge candidates
  bool early_cu = false;            // ECU: a CU whose best whole coding is a skip CU is not split
  bool early_skip = false;          // ESD: no other partition once the 2Nx2N trials chose skip
  bool cbf_fast_mode = false;  // CFM: no further partition once the best so far has no residual
  bool amp = true;             // AMP: asymmetric motion partitions
  bool tmvp = true;            // TMVPMode
  int max_merge_cand = 5;      // MaxNumMergeCand
  // Decision effort (HM's fast-intra choices, documented in docs/encoder.md).
  int rmd_candidates_small = 3;  // full-RD candidates after the rough decision, 8x8 PUs
  int rmd_candidates_large = 3;  // same for PUs >= 16x16
  // Early terminations beyond HM-16.9's (each measured in BENCHMARKS.md).
  bool skip_split_if_no_residual = false;     // no CU split when the unsplit CU codes no residual
  bool skip_tu_split_if_no_residual = false;  // no TU split when the unsplit TU has cbf 0
  bool skip_nxn_if_no_residual = false;       // no NxN when 2Nx2N at 8x8 codes no luma residual
  int chroma_rd_candidates = 5;  // chroma modes given full RD after a SATD pre-selection (DM kept)
  int rmd_candidates_4x4 = 4;    // full-RD candidates of 4x4 PUs
  bool transform_skip_final_only = true;  // try transform skip for the chosen mode only
  int max_cu_log2_tried = 5;              // larger CUs are split without a trial as a whole (HM: 6)
  bool rmd_fast = true;  // rough decision over every second angle, then the best's neighbours
  // CU sizes searched only from `up` levels above the largest the previous picture chose over
  // the same area down to `down` levels below its smallest (-1: no limit that way; both -1: off),
  // where the source's mean absolute change from the previous picture is at most `max_diff`
  // (-1: anywhere). A picture every `prev_tree_refresh` (0: only the first) gets the full search.
  int prev_tree_up = -1;
  int prev_tree_down = -1;
  int prev_tree_max_diff = -1;
  int prev_tree_refresh = 0;
  bool prev_tree_nxn = false;
  bool prev_tree_on() const { return prev_tree_up >= 0 || prev_tree_down >= 0; }
  // In-loop CNN (needs a provider, see Encoder::set_cnn): 0 off, 1 picture-level switch,
  // 2 CTU-level switch, 3 CNN everywhere. cnn_force_off signals "off" whatever the costs (tests).
  int cnn_mode = 2;
  bool cnn_force_off = false;
  // Test switch: off codes every block of the residual quadtree again instead of reusing the
  // winning full-RD trial; the bitstream must not change.
  bool reuse_trials = true;
  // Test switch: off tries every option in full where the search can tell, exactly, that an
  // option cannot win or has the cost of one already tried (docs/encoder.md); the bitstream must
  // not change.
  bool exact_shortcuts = true;

  int min_cu_log2() const {
    int l = 0;
    while ((1 << l) < max_cu_size) ++l;
    return l - (max_partition_depth - 1);
  }
  int ctb_log2() const {
    int l = 0;
    while ((1 << l) < max_cu_size) ++l;
    return l;
  }
  // Returns an empty string when the configuration is usable, else the reason.
  std::string validate() const;
  // Sets a field by name (the names the Python layer uses); false for an unknown name.
  bool set(const std::string& field, double value);
};

}  // namespace hevc
