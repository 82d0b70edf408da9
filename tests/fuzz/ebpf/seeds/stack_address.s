stdw [%r10-16], 1
mov %r3, %r10
add %r3, -16
stxw [%r3+2], %r3
ldxdw %r0, [%r3+0]
exit
