// SPDX-License-Identifier: Apache-2.0
#include "collectives/communicator.h"

#include <fmt/format.h>

#include "core/error.h"

namespace cobench::coll {

std::size_t size_of(DataType t) {
  switch (t) {
    case DataType::kFloat32:
    case DataType::kInt32:
      return 4;
    case DataType::kUInt8:
      return 1;
  }
  COBENCH_THROW("unknown data type");
}

std::string_view to_string(DataType t) {
  switch (t) {
    case DataType::kFloat32:
      return "float32";
    case DataType::kInt32:
      return "int32";
    case DataType::kUInt8:
      return "uint8";
  }
  return "?";
}

DataType parse_data_type(std::string_view name) {
  for (DataType t : {DataType::kFloat32, DataType::kInt32, DataType::kUInt8})
    if (name == to_string(t)) return t;
  COBENCH_THROW(fmt::format("unknown data type '{}': expected float32, int32 or uint8", name));
}

}  // namespace cobench::coll
