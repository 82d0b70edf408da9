mov %r1, 3
call local f
exit
f:
mov %r0, %r1
lsh %r0, 2
exit
