// SPDX-License-Identifier: Apache-2.0
// A measured record drives the model only for the hardware it measured: the H800 fixture for the
// H800 cluster, not for an H200 one; a 2-vCPU VM's MPI shared-memory bandwidth never replaces
// NVLink, unless mapped on purpose with --measured-as.
#include "topologies/measured_identity.h"

#include <gtest/gtest.h>

#include <string>

#include "core/results_io.h"
#include "tests/test_util.h"
#include "topologies/data_files.h"

namespace {

using namespace cobench::topo;

const std::string kFixture = std::string(COBENCH_TEST_DATA_DIR) + "/measured_h800.json";
const std::string kVmRun =
    std::string(COBENCH_TEST_DATA_DIR) + "/../../results/cpu-dev-vm/20261129T212216Z_vm_run.json";

TEST(MeasuredIdentity, InputsBelongToComponents) {
  EXPECT_EQ(component_of_input("gpu.peak_flops.fp8"), "gpu");
  EXPECT_EQ(component_of_input("pcie.h2d_bandwidth"), "gpu");
  EXPECT_EQ(component_of_input("cpu.memory_bandwidth"), "host");
  EXPECT_EQ(component_of_input("storage.read_bandwidth"), "host");
  EXPECT_EQ(component_of_input("ep.bandwidth.intra_node"), "link");
  EXPECT_EQ(component_of_input("latency.inter_node"), "link");
}

TEST(MeasuredIdentity, TheSameGpuIsAccepted) {
  const MeasuredInputs in =
      measured_data_for({kFixture}, load_cluster_file("deepseek-h800-2048"), {}).inputs;
  EXPECT_EQ(in.size(), 3u);
  EXPECT_EQ(in.at("gpu.hbm_bandwidth").value, 2.9e12);
}

TEST(MeasuredIdentity, AnotherGpuIsRefusedNamingBoth) {
  const std::string e = cobench::test::error_of(
      [] { measured_data_for({kFixture}, load_cluster_file("h200-ib-256"), {}); });
  EXPECT_NE(e.find("measures model input 'gpu.hbm_bandwidth' of another gpu: it measured NVIDIA "
                   "H800 (cc 9.0, 132 SMs), the cluster's GPU is NVIDIA H200 (cc 9.0, 132 SMs)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("--measured-as gpu"), std::string::npos) << e;
  // On purpose: the GPU records, and the links measured between H800s, mapped to the H200s.
  const MeasuredInputs in =
      measured_data_for({kFixture}, load_cluster_file("h200-ib-256"), {"gpu", "link"}).inputs;
  EXPECT_EQ(in.size(), 3u);
}

TEST(MeasuredIdentity, AHostMpiPathNeverReplacesNvlink) {
  const std::string e = cobench::test::error_of(
      [] { measured_data_for({kVmRun}, load_cluster_file("deepseek-h800-2048"), {}); });
  // The first tagged record is the host's memory bandwidth: the H800 file names no CPU.
  EXPECT_NE(e.find("of another host: it measured CPU 'AMD EPYC'"), std::string::npos) << e;
  const std::string link = cobench::test::error_of(
      [] { measured_data_for({kVmRun}, load_cluster_file("deepseek-h800-2048"), {"host"}); });
  EXPECT_NE(link.find("measures model input 'latency.intra_node' of another link class: it "
                      "measured the mpi path between hosts without a GPU, the cluster's links "
                      "join NVIDIA H800 SXM (cc 9.0, 132 SMs) GPUs (NVLink, InfiniBand)"),
            std::string::npos)
      << link;
  EXPECT_EQ(
      measured_data_for({kVmRun}, load_cluster_file("deepseek-h800-2048"), {"all"}).inputs.size(),
      3u);
}

}  // namespace
