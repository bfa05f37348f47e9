// SPDX-License-Identifier: Apache-2.0
// The byte layouts of the EP exchange's records, written once: a dispatch record
//   [int32 source rank][int32 token][top_k int32 experts][top_k float weights][payload]
// and a combine record
//   [int32 token][int32 0][H values in the combine format: BF16 unless --combine-format says].
// The layouts hold no bytes: they name the offsets and sizes, and read and write fields of a
// record in a byte buffer (memcpy, so records need no alignment).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "collectives/ep/ep_config.h"

namespace cobench::coll::ep {

namespace detail {

inline int read_int32(const std::byte* p) {
  std::int32_t v = 0;
  std::memcpy(&v, p, 4);
  return v;
}

inline void write_int32(std::byte* p, int v) {
  const auto x = static_cast<std::int32_t>(v);
  std::memcpy(p, &x, 4);
}

}  // namespace detail

/// A received dispatch record's fields; the arrays point into the record (read them with memcpy).
struct RecordView {
  int source_rank = 0;
  int token = 0;
  const int* experts = nullptr;
  const float* weights = nullptr;
  const std::byte* payload = nullptr;
};

/// [int32 source rank][int32 token][top_k int32 experts][top_k float weights][payload]
class DispatchRecordLayout {
 public:
  static constexpr std::size_t kSourceRankOffset = 0;
  static constexpr std::size_t kTokenOffset = 4;
  static constexpr std::size_t kExpertsOffset = 8;

  DispatchRecordLayout(int top_k, std::size_t payload_bytes)
      : top_k_(static_cast<std::size_t>(top_k)), payload_bytes_(payload_bytes) {}
  /// The configuration's: FP8 payload with its scales (dispatch_payload_bytes).
  explicit DispatchRecordLayout(const EpConfig& c)
      : DispatchRecordLayout(c.top_k, dispatch_payload_bytes(c.hidden)) {}

  std::size_t weights_offset() const { return kExpertsOffset + 4 * top_k_; }
  std::size_t payload_offset() const { return weights_offset() + 4 * top_k_; }
  std::size_t payload_bytes() const { return payload_bytes_; }
  std::size_t bytes() const { return payload_offset() + payload_bytes_; }

  void write(std::byte* rec, int source_rank, int token, const int* experts, const float* weights,
             const std::byte* payload) const {
    detail::write_int32(rec + kSourceRankOffset, source_rank);
    detail::write_int32(rec + kTokenOffset, token);
    std::memcpy(rec + kExpertsOffset, experts, 4 * top_k_);
    std::memcpy(rec + weights_offset(), weights, 4 * top_k_);
    std::memcpy(rec + payload_offset(), payload, payload_bytes_);
  }
  static int source_rank(const std::byte* rec) {
    return detail::read_int32(rec + kSourceRankOffset);
  }
  static int token(const std::byte* rec) { return detail::read_int32(rec + kTokenOffset); }
  /// The j-th of the record's top_k experts.
  static int expert(const std::byte* rec, int j) {
    return detail::read_int32(rec + kExpertsOffset + 4 * static_cast<std::size_t>(j));
  }
  RecordView view(const std::byte* rec) const {
    RecordView v;
    v.source_rank = source_rank(rec);
    v.token = token(rec);
    v.experts = reinterpret_cast<const int*>(rec + kExpertsOffset);
    v.weights = reinterpret_cast<const float*>(rec + weights_offset());
    v.payload = rec + payload_offset();
    return v;
  }

 private:
  std::size_t top_k_, payload_bytes_;
};

/// [int32 token][int32 0][payload: H values in the combine format (ep_combine_format.h)]
class CombineRecordLayout {
 public:
  static constexpr std::size_t kTokenOffset = 0;
  static constexpr std::size_t kReservedOffset = 4;  ///< always 0
  static constexpr std::size_t kValuesOffset = 8;

  explicit CombineRecordLayout(int hidden, CombineFormat format = CombineFormat::kBf16)
      : hidden_(hidden), format_(format), payload_bytes_(combine_payload_bytes(format, hidden)) {}
  /// The configuration's: H values in its combine format (BF16: combine_payload_bytes).
  explicit CombineRecordLayout(const EpConfig& c)
      : CombineRecordLayout(c.hidden, c.combine_format) {}

  CombineFormat format() const { return format_; }
  std::size_t payload_bytes() const { return payload_bytes_; }
  std::size_t bytes() const { return kValuesOffset + payload_bytes(); }

  /// The header; the values are written through write_values().
  static void write_header(std::byte* rec, int token) {
    detail::write_int32(rec + kTokenOffset, token);
    detail::write_int32(rec + kReservedOffset, 0);
  }
  static int token(const std::byte* rec) { return detail::read_int32(rec + kTokenOffset); }
  /// Where the payload starts.
  static std::byte* payload(std::byte* rec) { return rec + kValuesOffset; }
  /// The values encoded in the format from `v` (H floats; see encode_combine).
  void write_values(std::byte* rec, const float* v) const {
    encode_combine(format_, v, hidden_, rec + kValuesOffset);
  }
  /// dst[i] += decoded value i (H floats).
  void add_values(const std::byte* rec, float* dst) const {
    decode_add_combine(format_, rec + kValuesOffset, hidden_, dst);
  }

 private:
  int hidden_;
  CombineFormat format_;
  std::size_t payload_bytes_;
};

}  // namespace cobench::coll::ep
