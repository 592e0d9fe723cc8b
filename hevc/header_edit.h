// Rewrites the parameter sets and slice headers of a stream, leaving every slice's coded data
// as it is. It derives streams that use header features no encoder here writes (long-term
// references, list modification, pic_output_flag, no_output_of_prior_pics_flag), so that the
// decoder can be checked on them against other decoders.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hevc {

enum class HeaderEdit {
  // Every P/B slice with two or more reference pictures reorders its lists
  // (ref_pic_lists_modification): the pictures decoded change, the stream stays valid.
  ListModification,
  // The POC LSB shrinks to 5 bits, and each reference picture whose POC is a multiple of 8
  // becomes a long-term one in every slice that keeps it (SPS candidates and slice-coded entries
  // in turn, with and without the MSB cycle): the decoded pictures change.
  LongTerm,
  // pic_output_flag = 0 on pictures whose POC is 1 modulo 3: they are decoded but not output.
  PicOutput,
  // no_output_of_prior_pics_flag = 1 on every IRAP picture but the first: the pictures still
  // waiting for output when it arrives are discarded.
  NoOutputOfPriorPics,
  // As NoOutputOfPriorPics, with sps_max_num_reorder_pics raised to the buffer size and no
  // latency limit: pictures are then output only when the buffer is full (C.5.2.2), and more of
  // them are waiting, and discarded, at each IRAP.
  FullDpb,
};

// Parses "list-modification", "long-term", "pic-output", "no-output-of-prior-pics" or
// "full-dpb"; throws std::invalid_argument otherwise.
HeaderEdit parse_header_edit(const std::string& name);

// Returns the rewritten Annex B stream. Edits that change the decoded pictures drop the SEI
// messages (their picture hashes would no longer match). Throws BitstreamError on a stream it
// cannot parse, or one the edit cannot apply to (POCs too far apart for the shorter LSB).
std::vector<uint8_t> edit_headers(const uint8_t* data, size_t size, HeaderEdit edit);

}  // namespace hevc
