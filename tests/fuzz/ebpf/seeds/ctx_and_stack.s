ldxdw %r2, [%r1+112]
stxdw [%r10-8], %r2
mov %r1, %r10
add %r1, -24
mov %r2, 16
call 16
ldxdw %r0, [%r10-8]
and %r0, 15
exit
