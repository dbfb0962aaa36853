/*
 * qemu_backend.h: the qemu backend, the ground truth (DESIGN.md).
 *
 * What this is: BgBackendOps "qemu", which runs every step of a stream on an
 * installed QEMU 7.2 (qemu-system-x86_64 over QMP, qemu-img, qemu-io), the
 * way QEMU's iotests (python/qemu/machine, tests/qemu-iotests/iotests.py)
 * run iotest 245.  Binaries come from PATH or from $BG_QEMU, $BG_QEMU_IMG,
 * $BG_QEMU_IO.
 * What it is not: a model of anything; it only reports what QEMU answers.
 */
#ifndef BG_QEMU_BACKEND_H
#define BG_QEMU_BACKEND_H

#include <sys/types.h>

#include "backend.h"

extern const BgBackendOps bg_qemu_backend_ops;

/* For tests: process id of the running QEMU, or -1 when none runs. */
pid_t qemu_backend_vm_pid(const BgBackend *be);

#endif
