# SPDX-License-Identifier: MIT
# tools/bench: what a kprobe+kretprobe pair with a map counter on do_unlinkat adds per call.
/bin/kprobe_checks --bench 2000
