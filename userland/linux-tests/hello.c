// SPDX-License-Identifier: MIT
// The first Linux program on Sonde: its arguments, environment and auxiliary vector, then a
// greeting through write(2) and exit_group(2), all through musl's start code.
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

int main(int argc, char** argv, char** envp) {
  printf("hello from musl: argc=%d argv[0]=%s\n", argc, argv[0]);
  int environment = 0;
  for (char** e = envp; *e != NULL; ++e) ++environment;
  printf("environment: %d strings\n", environment);
  printf("auxv: pagesz=%lu platform=%s secure=%lu random=%s execfn=%s\n", getauxval(AT_PAGESZ),
         (const char*)getauxval(AT_PLATFORM), getauxval(AT_SECURE),
         getauxval(AT_RANDOM) != 0 ? "yes" : "no", (const char*)getauxval(AT_EXECFN));
  printf("pid=%d ppid=%d uid=%d\n", (int)getpid(), (int)getppid(), (int)getuid());
  const char direct[] = "hello through write(2)\n";
  write(1, direct, strlen(direct));
  // As /init on Sonde the program runs again as its static-pie build, through execve.
  if (argc == 1 && access("/bin/hello-pie", X_OK) == 0) {
    char* const next_argv[] = {"hello-pie", "again", NULL};
    execve("/bin/hello-pie", next_argv, envp);
    perror("execve");
    return 1;
  }
  return 0;
}
