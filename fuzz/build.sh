#!/bin/bash -eu
# fuzz/build.sh: build the fuzz targets the way OSS-Fuzz and ClusterFuzzLite
# build a project (google/oss-fuzz docs/getting-started/new_project_guide.md,
# google/clusterfuzzlite docs/build_integration.md); .clusterfuzzlite/build.sh
# calls it.
#
# Reads $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE $OUT $WORK (defaults
# below for a local run: clang with ASan+UBSan and libFuzzer, out in
# build/oss-fuzz/).  Compiles with $CC $CFLAGS through the Makefile (its
# source lists and flags, in $WORK/bgraph), links with $CXX $CXXFLAGS
# $LIB_FUZZING_ENGINE and jansson and zlib linked statically (a runner image
# has neither installed), and leaves in $OUT, for each of fuzz_diff and
# fuzz_stream:
#   TARGET                   the fuzzer
#   TARGET_seed_corpus.zip   its seeds, as tools/fuzz-campaign.sh uses them
#   TARGET.dict              its dictionary
#   TARGET.options           fuzz/TARGET.options, dict renamed to TARGET.dict
# With AFL++ (LIB_FUZZING_ENGINE names libAFLDriver.a, CC=afl-clang-fast) also
# fuzz_diff_afl_mutator.so: the structure-aware mutator for AFL++'s
# AFL_CUSTOM_MUTATOR_LIBRARY (AFL++ never calls LLVMFuzzerCustomMutator).
#
# What it is not: the everyday build (make fuzz-build) or a campaign.
cd "$(dirname "$0")/.."
: "${CC:=clang}" "${CXX:=clang++}"
: "${CFLAGS:=-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fsanitize=fuzzer-no-link}"
: "${CXXFLAGS:=$CFLAGS}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:=$PWD/build/oss-fuzz/out}" "${WORK:=$PWD/build/oss-fuzz/work}"
B=$WORK/bgraph
mkdir -p "$OUT" "$B"
jobs=$(nproc 2>/dev/null || echo 1)

# OSS-Fuzz's flags carry the sanitizers; the project's own (-std, -I, -D,
# warnings) come from the Makefile.
make -j"$jobs" --no-print-directory B="$B" CC="$CC" CFLAGS="$CFLAGS" \
    FUZZ_LINK="$CXX $CXXFLAGS $LIB_FUZZING_ENGINE" \
    FUZZ_LDLIBS="-Wl,-Bstatic -ljansson -lz -Wl,-Bdynamic" \
    "$B/fuzz_diff" "$B/fuzz_stream"

# seed_zip ZIP DIR...: the streams of DIRs, flat, names prefixed by their dir,
# except the streams tests/known-failures/ lists: a target that aborts on its
# first difference would stop on them before fuzzing anything.
seed_zip() {
    local zip=$1 tmp d f
    shift
    tmp=$(mktemp -d)
    for d in "$@"; do
        for f in "$d"/*.jsonl; do
            [ -f "$f" ] || continue
            sed -e "s/#.*//" tests/known-failures/*.txt 2>/dev/null | grep -qxF "$f" && continue
            cp "$f" "$tmp/$(echo "$d" | tr / -)-$(basename "$f")"
        done
    done
    rm -f "$zip"
    (cd "$tmp" && zip -q -X -r "$zip" .)
    rm -rf "$tmp"
}

for t in fuzz_diff fuzz_stream; do
    cp "$B/$t" "$OUT/$t"
    dict=$(sed -n 's/^dict *= *//p' "fuzz/$t.options")
    cp "fuzz/$dict" "$OUT/$t.dict"
    sed "s/^dict *= *.*/dict = $t.dict/" "fuzz/$t.options" >"$OUT/$t.options"
done
seed_zip "$OUT/fuzz_diff_seed_corpus.zip" corpus/seed corpus/conformance corpus/regress
seed_zip "$OUT/fuzz_stream_seed_corpus.zip" corpus/seed corpus/conformance corpus/regress \
    tests/streams/good tests/streams/bad

case $LIB_FUZZING_ENGINE in
*AFL* | *afl*)
    # Not instrumented, not sanitized: it runs inside afl-fuzz, not the target.
    mut_src="fuzz/afl_mutator.c $(make -s --no-print-directory print-FUZZLIB) $(make -s --no-print-directory print-COMMON)"
    clang -std=gnu11 -O2 -g -fPIC -shared -D_GNU_SOURCE -Icommon -Iqemu -Ireplay \
        -o "$OUT/fuzz_diff_afl_mutator.so" $mut_src \
        -ljansson -lz ;;   # afl-fuzz runs where jansson is installed (no PIC archive)
esac
ls -l "$OUT"
