stdw [%r10-8], 0
call 7
jgt32 %r0, 7, out
jsgt32 %r0, 5, out
mov32 %r1, %r0
mov %r3, %r10
add %r3, -8
add %r3, %r1
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
