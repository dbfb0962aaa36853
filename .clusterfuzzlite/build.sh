#!/bin/bash -eu
# ClusterFuzzLite's build script: everything is in fuzz/build.sh, which reads
# $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE $OUT $WORK as set here.
"$SRC/bgraph/fuzz/build.sh"
