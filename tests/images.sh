#!/usr/bin/env bash
# tests/images.sh BUILD_DIR STREAM...: the images the engine writes are
# QEMU's.  Each stream runs on the real backend and on QEMU 7.2, keeping both
# scratch directories; then every qcow2 image the engine left must pass
# `qemu-img check` (no errors, no leaks), and every image must have the same
# guest-visible contents as QEMU's twin (`qemu-img compare`).  Prints one
# line per problem and "images: N streams, M images checked"; exit 1 on a
# problem.
set -u
B=$1
shift
root=$(mktemp -d /var/tmp/bgraph-images.XXXXXX)
trap 'rm -rf "$root"' EXIT
problems=0
streams=0
images=0

for s in "$@"; do
    streams=$((streams + 1))
    stem=$(basename "$s" .jsonl)
    rm -rf "$root/real" "$root/qemu"
    mkdir -p "$root/real" "$root/qemu"
    "$B/replay" --backend=real --keep --scratch="$root/real" "$s" >/dev/null 2>&1
    "$B/replay" --backend=qemu --keep --scratch="$root/qemu" "$s" >/dev/null 2>&1
    rdir=$(ls -d "$root/real"/bgraph-*-real* 2>/dev/null | head -n 1)
    qdir=$(ls -d "$root/qemu"/bgraph-*-qemu* 2>/dev/null | head -n 1)
    [ -n "$rdir" ] && [ -n "$qdir" ] || { echo "$s: no scratch directory kept"; problems=$((problems + 1)); continue; }
    for img in "$rdir"/*.img; do
        [ -f "$img" ] || continue
        name=$(basename "$img")
        fmt=raw
        if [ "$(head -c 4 "$img" | od -An -tx1 | tr -d ' \n')" = "514649fb" ]; then
            fmt=qcow2
        fi
        images=$((images + 1))
        if [ $fmt = qcow2 ]; then
            if ! out=$(qemu-img check -q -f qcow2 "$img" 2>&1); then
                # An image QEMU's own run leaves unopenable the same way (a
                # stream that overwrote a backing file) is the stream's doing.
                twin=$(qemu-img check -q -f qcow2 "$qdir/$name" 2>&1)
                if [ "${out//$rdir/DIR}" != "${twin//$qdir/DIR}" ]; then
                    echo "$s: qemu-img check $name: $out"
                    problems=$((problems + 1))
                fi
                continue
            fi
        fi
        if [ -f "$qdir/$name" ]; then
            # -U: no locks (nothing runs); compare guest-visible contents.
            if ! out=$(qemu-img compare -U -f $fmt -F $fmt "$img" "$qdir/$name" 2>&1); then
                echo "$s: qemu-img compare $name (real vs qemu): $out"
                problems=$((problems + 1))
            fi
        fi
    done
done
echo "images: $streams streams, $images images checked, $problems problems"
[ $problems -eq 0 ]
