stdw [%r10-16], 1
stdw [%r10-8], 2
call 7
and %r0, 7
mov %r3, %r10
add %r3, -16
add %r3, %r0
stxb [%r3+0], %r0
ldxdw %r0, [%r3+0]
exit
