lddw %r1, map:0
lddw %r2, func:each
mov %r3, 0
mov %r4, 0
call 164
mov %r1, 4
lddw %r2, func:iteration
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
each:
ldxw %r0, [%r2+0]
ldxdw %r4, [%r3+0]
and %r4, 3
add %r2, %r4
ldxb %r0, [%r2+0]
mov %r0, 0
exit
iteration:
mov %r0, 0
exit
