call 7
mov %r6, %r0
and %r6, 7
call 7
mov %r7, %r0
and %r7, 15
jgt %r6, %r7, out
stw [%r10-4], 0
lddw %r1, map:0
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
add %r0, %r6
ldxb %r0, [%r0+0]
exit
out:
mov %r0, 0
exit
