/* Runs a command and prints its peak resident memory in KiB and the CPU time it used (user plus
   system, in microseconds) to stderr as "peak-kib N cpu-us T".
   A helper of compare-lua.sh: measured from a small parent, so that the figure is the
   command's own and not the high-water mark of a large process that forked it. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: peakmem COMMAND [ARGS...]\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) return 2;
  if (pid == 0) {
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    _exit(127);
  }
  int status;
  struct rusage usage;
  if (wait4(pid, &status, 0, &usage) < 0) return 2;
  long cpu = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000L +
             usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
  fprintf(stderr, "peak-kib %ld cpu-us %ld\n", usage.ru_maxrss, cpu);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
