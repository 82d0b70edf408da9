# SPDX-License-Identifier: MIT
# userland/linux-tests/signal_fpu_checks (added with --add): the FPU/SSE state in signal
# frames as Linux keeps it, on Sonde.
/bin/signal_fpu_checks
echo "status $?"
