# SPDX-License-Identifier: MIT
# userland/linux-tests/dynamic_checks, linked against glibc and against musl (added with --add,
# their loaders and libraries with them): PT_INTERP, file-backed mmap, dlopen.
/bin/dynamic_checks_glibc first
echo "status $?"
/bin/dynamic_checks_musl first
echo "status $?"
