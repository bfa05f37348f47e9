#!/bin/sh
# Fails when a binary depends on the CUDA driver library (libcuda.so), which would keep it from
# starting on machines without a GPU driver. Usage: check_no_driver.sh BINARY
set -eu
deps=$(readelf -d "$1") || { echo "cannot read $1"; exit 1; }
echo "$deps" | grep -q NEEDED || { echo "no dynamic section in $1"; exit 1; }
if echo "$deps" | grep -q 'libcuda\.so'; then
  echo "$1 depends on libcuda.so:"; echo "$deps" | grep NEEDED; exit 1
fi
echo "$1: no libcuda dependency"
