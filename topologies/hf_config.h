// SPDX-License-Identifier: Apache-2.0
// Reads a Hugging Face `config.json` directly into a ModelArch, for the common families:
// DeepSeek-V2/V3 and models reusing that architecture (DeepseekV2/V3ForCausalLM), Llama,
// Mistral, Qwen2/2.5, Qwen3, Qwen3-MoE, Mixtral and gpt-oss. Any other architecture is an
// error naming the file, line and key.
#pragma once

#include "core/config.h"
#include "topologies/model_arch.h"

namespace cobench::topo {

/// `root` is the parsed config.json; the name defaults to the file's `_name_or_path` or the
/// architecture.
ModelArch load_hf_config(const config::Node& root);

}  // namespace cobench::topo
