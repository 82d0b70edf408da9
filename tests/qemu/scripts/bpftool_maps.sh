# SPDX-License-Identifier: MIT
# Debian's bpftool on every map type the trace server has, compared with Linux 6.1 in the same
# QEMU: creation (and the attributes each type refuses), queues and stacks, freezing (bpftool
# shows "frozen" from /proc/PID/fdinfo), update flags, get_next_key, bloom filters, LPM tries
# (longest-prefix lookups, dump order), a program array's owner, and `map show` of each
# (memlock from fdinfo). Ids are masked.
ids() { sed -E 's/^[0-9]+: /ID: /; s/id [0-9]+/id N/g'; }
create() {  # create NAME ARGS...: prints the status, and bpftool's error if any
  name=$1
  shift
  bpftool map create /sys/fs/bpf/$name "$@" name $name
  echo "create $name: $?"
}
echo "== queue and stack"
create q type queue key 0 value 4 entries 2
bpftool map push pinned /sys/fs/bpf/q value 1 0 0 0
bpftool map enqueue pinned /sys/fs/bpf/q value 2 0 0 0
bpftool map enqueue pinned /sys/fs/bpf/q value 3 0 0 0
echo "push into a full queue: $?"
bpftool map peek pinned /sys/fs/bpf/q
bpftool map dequeue pinned /sys/fs/bpf/q
bpftool map pop pinned /sys/fs/bpf/q
bpftool map dequeue pinned /sys/fs/bpf/q
echo "pop from an empty queue: $?"
create s type stack key 0 value 4 entries 4
bpftool map push pinned /sys/fs/bpf/s value 1 0 0 0
bpftool map push pinned /sys/fs/bpf/s value 2 0 0 0
bpftool map pop pinned /sys/fs/bpf/s
bpftool map lookup pinned /sys/fs/bpf/s key 0 0 0 0
echo "keyed lookup of a stack: $?"
create bad_queue type queue key 4 value 4 entries 2
echo "== freeze"
create a type array key 4 value 4 entries 2
bpftool map update pinned /sys/fs/bpf/a key 1 0 0 0 value 5 0 0 0
bpftool map freeze pinned /sys/fs/bpf/a
echo "freeze: $?"
bpftool map freeze pinned /sys/fs/bpf/a
echo "freeze again: $?"
bpftool map update pinned /sys/fs/bpf/a key 0 0 0 0 value 1 0 0 0
echo "update of a frozen map: $?"
bpftool map lookup pinned /sys/fs/bpf/a key 1 0 0 0
bpftool map show pinned /sys/fs/bpf/a | ids
echo "== hash: update flags and get_next_key"
create h type hash key 4 value 4 entries 2
bpftool map update pinned /sys/fs/bpf/h key 1 0 0 0 value 1 0 0 0 noexist
echo "noexist: $?"
bpftool map update pinned /sys/fs/bpf/h key 1 0 0 0 value 1 0 0 0 noexist
echo "noexist of a present key: $?"
bpftool map update pinned /sys/fs/bpf/h key 2 0 0 0 value 1 0 0 0 exist
echo "exist of a missing key: $?"
bpftool map update pinned /sys/fs/bpf/h key 2 0 0 0 value 2 0 0 0
bpftool map update pinned /sys/fs/bpf/h key 3 0 0 0 value 3 0 0 0
echo "a third key in a hash of two: $?"
bpftool map getnext pinned /sys/fs/bpf/h key 9 0 0 0 > /dev/null
echo "getnext from a missing key: $?"
bpftool map dump pinned /sys/fs/bpf/h | sort
bpftool map delete pinned /sys/fs/bpf/h key 9 0 0 0
echo "delete of a missing key: $?"
echo "== lru hash"
create lru type lru_hash key 4 value 4 entries 2
# Which key a full LRU map evicts is not compared: Linux's LRU lists are per CPU and
# approximate (two runs of Linux differ); docs/MAPS.md has Sonde's rule.
bpftool map update pinned /sys/fs/bpf/lru key 1 0 0 0 value 1 0 0 0
bpftool map lookup pinned /sys/fs/bpf/lru key 1 0 0 0
create lru_noprealloc type lru_hash key 4 value 4 entries 2 flags 1
echo "== bloom filter"
create bl type bloom_filter key 0 value 4 entries 16
bpftool map push pinned /sys/fs/bpf/bl value 1 2 3 4
echo "push: $?"
create bl_keyed type bloom_filter key 4 value 4 entries 16
echo "== LPM trie"
create lpm type lpm_trie key 8 value 4 entries 16 flags 1
# struct bpf_lpm_trie_key: a host-order u32 prefix length, then the address.
bpftool map update pinned /sys/fs/bpf/lpm key 16 0 0 0 192 168 0 0 value 16 0 0 0
bpftool map update pinned /sys/fs/bpf/lpm key 24 0 0 0 192 168 1 0 value 24 0 0 0
bpftool map update pinned /sys/fs/bpf/lpm key 0 0 0 0 0 0 0 0 value 0 0 0 0
bpftool map update pinned /sys/fs/bpf/lpm key 8 0 0 0 10 0 0 0 value 8 0 0 0
bpftool map lookup pinned /sys/fs/bpf/lpm key 32 0 0 0 192 168 1 5
bpftool map lookup pinned /sys/fs/bpf/lpm key 32 0 0 0 192 168 2 5
bpftool map lookup pinned /sys/fs/bpf/lpm key 32 0 0 0 10 1 2 3
bpftool map lookup pinned /sys/fs/bpf/lpm key 32 0 0 0 11 1 2 3
bpftool map update pinned /sys/fs/bpf/lpm key 33 0 0 0 1 2 3 4 value 1 0 0 0
echo "a prefix longer than the key: $?"
bpftool map dump pinned /sys/fs/bpf/lpm
bpftool map delete pinned /sys/fs/bpf/lpm key 24 0 0 0 192 168 1 0
bpftool map delete pinned /sys/fs/bpf/lpm key 24 0 0 0 192 168 1 0
echo "delete twice: $?"
bpftool map lookup pinned /sys/fs/bpf/lpm key 32 0 0 0 192 168 1 5
create lpm_prealloc type lpm_trie key 8 value 4 entries 16
echo "== the rest"
create rb type ringbuf key 0 value 0 entries 4096
create rb_odd type ringbuf key 0 value 0 entries 12288
create pea type perf_event_array key 4 value 4 entries 2
create st type stack_trace key 4 value 64 entries 4
create pc type percpu_array key 4 value 4 entries 200
create ph type percpu_hash key 4 value 12 entries 16
create pa type prog_array key 4 value 4 entries 4
bpftool prog load /unlink.bpf.o /sys/fs/bpf/prog
bpftool map update pinned /sys/fs/bpf/pa key 0 0 0 0 value pinned /sys/fs/bpf/prog
echo "a program into the program array: $?"
echo "== map show"
for m in q s h lru bl lpm rb pea st pc ph pa; do
  bpftool map show pinned /sys/fs/bpf/$m | ids
done
rm -f /sys/fs/bpf/*
echo done
