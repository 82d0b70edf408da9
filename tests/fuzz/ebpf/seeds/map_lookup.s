stw [%r10-4], 1
lddw %r1, map:0
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
ldxdw %r1, [%r0+8]
add %r1, 1
stxdw [%r0+8], %r1
out:
mov %r0, 0
exit
