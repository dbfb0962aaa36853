/*
 * finding.h: the key of a difference between two backends: what makes two
 * differences one finding (one bug).
 *
 * tools/fuzz-findings.sh groups reproducers, and judges them known or new,
 * by this key as fuzz_diff prints it ("bgraph-key: KEY"); replay --minimize
 * keeps it (minimize.h).  This is its one definition: the script reads the
 * key, it does not build one.
 *
 *   mismatch: command=C channel=CH path=P[ | A ~ B]
 *
 * C, CH and P are the runner's signature (runner.h) without the step and
 * line (they depend on the stream's prefix and shrink under minimization);
 * in P numeric segments are N (event, array and byte positions) and names
 * the stream chose are * (the node in a data path /NODE/..., the job id in
 * /jobs/ID/...).  A and B are the two sides' values at the path as the
 * runner prints them (a side without the path shows "(absent)"), sorted,
 * each in its key form (bg_finding_value()); a data difference has none.
 * So two error texts of one command are two findings, and a stream that
 * drifts to another text is another finding.
 * What it is not: a crash key (sanitizer reports, signals, libFuzzer errors:
 * tools/fuzz-findings.sh keys those from the process's output).
 */
#ifndef BG_FINDING_H
#define BG_FINDING_H

#include <jansson.h>

/*
 * One side's value in key form, from SHOWN, the text the runner prints for
 * it (compact JSON, at most 400 bytes): an object by the text of its first
 * "desc" member ("error TEXT"), else "{...}"; an array "[...]"; a number
 * "N"; anything else as shown.  In a text, names in single quotes (as QEMU
 * quotes node names and paths) are '*', digit runs N, and more than 160
 * bytes end in "...".  Owned result.
 */
char *bg_finding_value(const char *shown);

/* The path in key form: numeric segments N, a data path's node and a job
 * event path's job id *.  Owned result. */
char *bg_finding_path(const char *channel, const char *path);

/* The key of SIGNATURE (runner.h: "command", "channel", "path" and
 * optionally "values"; missing members print as "?", "backend" and "-").
 * Owned result. */
char *bg_finding_key(const json_t *signature);

#endif
