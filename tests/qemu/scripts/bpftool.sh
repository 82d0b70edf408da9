# SPDX-License-Identifier: MIT
# Debian's bpftool (added with --add, with its loader and libraries) on the trace server's
# objects: a map created and pinned, updated and dumped; a program loaded from a BPF object and
# pinned, shown and dumped; the BTF objects (the kernel's first); errors as Linux's bpftool
# prints them. Times, tags and JIT sizes are masked.
mask() { sed -E 's/loaded_at [^ ]+/loaded_at TIME/; s/tag [0-9a-f]+/tag TAG/; s/jited [0-9]+B/jited NB/'; }
bpftool version | head -1
bpftool map create /sys/fs/bpf/counts type hash key 4 value 8 entries 16 name counts
echo "create: $?"
bpftool map update pinned /sys/fs/bpf/counts key 1 0 0 0 value 2 0 0 0 0 0 0 0
bpftool map update pinned /sys/fs/bpf/counts key 7 0 0 0 value 9 0 0 0 0 0 0 0
bpftool map dump pinned /sys/fs/bpf/counts | sort  # a hash map: any order
bpftool map lookup pinned /sys/fs/bpf/counts key 7 0 0 0
bpftool map delete pinned /sys/fs/bpf/counts key 7 0 0 0
bpftool map lookup pinned /sys/fs/bpf/counts key 7 0 0 0
echo "lookup of a deleted key: $?"
bpftool map show pinned /sys/fs/bpf/counts
bpftool -j map show id 1
echo
bpftool prog load /unlink.bpf.o /sys/fs/bpf/unlink_prog
echo "load: $?"
bpftool prog show pinned /sys/fs/bpf/unlink_prog | mask
bpftool prog dump xlated pinned /sys/fs/bpf/unlink_prog | head -3
bpftool btf list | sed -E 's/size [0-9]+B/size NB/'
# The kernel's BTF is object 1, "vmlinux": /sys/kernel/btf/vmlinux's bytes (its size is masked
# above, so a type added to the POSIX server's BTF changes nothing here).
size=$(bpftool btf show id 1 | sed -nE 's/.*size ([0-9]+)B.*/\1/p')
[ "$size" = "$(wc -c < /sys/kernel/btf/vmlinux)" ] && echo "btf 1: the size of /sys/kernel/btf/vmlinux"
bpftool btf dump id 1 format c > /tmp/btf1.h
bpftool btf dump file /sys/kernel/btf/vmlinux format c > /tmp/vmlinux.h
cmp /tmp/vmlinux.h /tmp/btf1.h && echo "btf 1: dumps as /sys/kernel/btf/vmlinux"
grep -c 'struct task_struct {' /tmp/btf1.h
# A pin's time is when it was made (masked; an unset one would show as Jan 1 1970).
ls -l /sys/fs/bpf | sed -E 's/ +/ /g; s/ [A-Z][a-z][a-z] [0-9]+ [0-9][0-9]:[0-9][0-9] / DATE /'
# bpftool perf: the kprobe a libbpf program holds (BPF_TASK_FD_QUERY over /proc/*/fd).
/bin/unlink --hold 30 > /tmp/unlink.out &
while ! grep -q attached /tmp/unlink.out; do sleep 0.2; done
bpftool perf | sed -E 's/pid [0-9]+/pid PID/; s/prog_id [0-9]+/prog_id ID/'
# Run-time statistics (kernel.bpf_stats_enabled): the attached program's runs while they are
# on; bpftool prints them after "gpl" when nonzero (the pinned program, never run, shows none).
echo 1 > /proc/sys/kernel/bpf_stats_enabled
cat /proc/sys/kernel/bpf_stats_enabled
touch /tmp/stats_victim
rm /tmp/stats_victim
bpftool prog show | grep -E '^[0-9]+: ' | mask | sed -E 's/^[0-9]+:/ID:/; s/run_time_ns [1-9][0-9]* run_cnt [1-9][0-9]*/run_time_ns N run_cnt M/'
echo 0 > /proc/sys/kernel/bpf_stats_enabled
kill $!
bpftool map show pinned /sys/fs/bpf/missing
echo "missing pin: $?"
# feature probe: the system's settings and configuration, then what the trace server takes.
bpftool feature probe kernel > /tmp/features
sed -n '2,6p' /tmp/features
grep -E '^CONFIG_(BPF|BPF_SYSCALL|BPF_JIT|KPROBE_EVENTS|UPROBE_EVENTS|NET) ' /tmp/features
grep -E 'program_type (kprobe|tracepoint|raw_tracepoint|xdp) |map_type (hash|ringbuf|lpm_trie|bloom_filter) ' /tmp/features
grep -c 'helpers supported for program type' /tmp/features
rm /sys/fs/bpf/counts /sys/fs/bpf/unlink_prog
bpftool map show id 1
echo "map after unpinning: $?"
# Per-CPU maps: a value per CPU (two, as on Linux in the same QEMU), memlock counting each
# (percpu_array: 200 * round_up(4 + 2 * 8, 8) = 4800 bytes, two pages); the same as Linux.
bpftool map create /sys/fs/bpf/pc type percpu_array key 4 value 4 entries 200 name pc
bpftool map create /sys/fs/bpf/ph type percpu_hash key 4 value 12 entries 16 name ph
bpftool map update pinned /sys/fs/bpf/pc key 3 0 0 0 value 5 0 0 0
bpftool map lookup pinned /sys/fs/bpf/pc key 3 0 0 0
bpftool map update pinned /sys/fs/bpf/ph key 1 0 0 0 value 1 2 3 4 5 6 7 8 9 10 11 12
bpftool map dump pinned /sys/fs/bpf/ph
bpftool map show pinned /sys/fs/bpf/pc | sed -E 's/^[0-9]+:/ID:/'
bpftool map show pinned /sys/fs/bpf/ph | sed -E 's/^[0-9]+:/ID:/'
rm /sys/fs/bpf/pc /sys/fs/bpf/ph
