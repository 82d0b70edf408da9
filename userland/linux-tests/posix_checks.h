// SPDX-License-Identifier: MIT
// What the parts of posix_checks share: the directory its files go in, each part's checks (main
// runs them in order), and each part's counts (checks.h counts per file).
#ifndef SONDE_LINUX_TESTS_POSIX_CHECKS_H
#define SONDE_LINUX_TESTS_POSIX_CHECKS_H

// /tmp/posix_checks.<pid>, made by main.
extern char dir[64];

// posix_checks_files.c
void files(void);
void descriptors(void);
void sendfile_checks(void);
void statx_checks(void);
void deleted_files(void);
void remove_while_reading(void);
void mapped_deleted_files(void);
void fifos(void);
void xattrs(void);
// Adds the part's passed and failed checks to the totals.
void add_files_counts(int* passed_total, int* failed_total);

// posix_checks_process.c
void processes(void);
void waitid_checks(void);
void memory_and_signals(void);
void job_control(void);
void alarms(void);
void clone3_checks(void);
void proc_of_others(void);
void add_process_counts(int* passed_total, int* failed_total);

#endif
