# SPDX-License-Identifier: MIT
# userland/linux-tests/mmap_shared_checks against musl and glibc (added with --add): MAP_SHARED
# file mappings on Sonde. Each runs twice: the first maps its own executable MAP_SHARED (its
# initramfs bytes move into shared pages), the second is exec'd from those pages.
/bin/mmap_shared_checks
echo "status $?"
/bin/mmap_shared_checks
echo "status $?"
/bin/mmap_shared_checks_glibc
echo "status $?"
/bin/mmap_shared_checks_glibc
echo "status $?"
