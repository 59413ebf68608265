import { existsSync } from 'node:fs';

/**
 * A server whose supervisor daemonizes (it forks, its parent exits, it calls setsid: its parent becomes pid 1)
 * leaves the launched process's tree, and with it memcompare's measurement and its stop. Launched under this
 * wrapper, it cannot: the wrapper makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so a
 * descendant orphaned by a double fork is re-parented to it instead of to pid 1; it runs the command as its
 * child, reaps every descendant, forwards the stop and reload signals to the command, and exits once nothing
 * below it is left, with the command's status. SIGTERM is memcompare gone (its parent-death signal, or the
 * guard): it SIGKILLs every descendant, the daemonized ones included, and exits.
 *
 * Hand-written, in Perl: Node cannot call prctl, no package on the machine does only this (tini does, and is
 * not installed on Debian by default), and Perl is in Debian's essential set. The syscall number is the
 * machine's (`PRCTL`); on an architecture not listed, the server runs without it and a daemonized process is
 * found as before (the launch's escapees).
 */
const WRAPPER = String.raw`use strict;
my $nr = shift @ARGV;
syscall($nr, 36, 1, 0, 0, 0) == 0 or print STDERR "memcompare: not a subreaper: $!\n";
my $child = fork();
defined $child or die "memcompare: fork: $!\n";
if ($child == 0) {
  exec { $ARGV[0] } @ARGV;
  print STDERR "memcompare: cannot run $ARGV[0]: $!\n";
  exit 127;
}
sub below {
  my %kids;
  opendir(my $d, "/proc") or return ();
  for my $p (grep { /^\d+$/ } readdir $d) {
    open(my $f, "<", "/proc/$p/stat") or next;
    my $s = <$f> // next;
    push @{$kids{$1}}, $p if $s =~ /\) \S+ (\d+)/;
  }
  my @out; my @todo = ($$);
  while (@todo) { my $p = shift @todo; for my $k (@{$kids{$p} || []}) { push @out, $k; push @todo, $k } }
  return @out;
}
$SIG{TERM} = sub { for (1 .. 3) { my @b = below(); last unless @b; kill 'KILL', @b } };
for my $s (qw(INT QUIT HUP USR1 USR2 TTIN TTOU WINCH)) { $SIG{$s} = sub { kill $s, $child } }
my $status = 0;
while (1) {
  my $w = waitpid(-1, 0);
  if ($w == -1) { last if $!{ECHILD}; next }
  $status = $? if $w == $child;
}
exit(($status & 127) ? 128 + ($status & 127) : ($status >> 8));
`;

/** prctl's system call number, by Node's name of the architecture. */
const PRCTL: Partial<Record<string, number>> = { x64: 157, arm64: 167, ia32: 172, arm: 172, riscv64: 167, ppc64: 171, s390x: 172 };

const PERL = '/usr/bin/perl';

/** The command run under the subreaper wrapper; the command itself where the wrapper cannot run here. */
export function underSubreaper(argv: readonly string[]): { argv: string[]; wrapped: boolean } {
  const nr = PRCTL[process.arch];
  if (nr === undefined || !existsSync(PERL)) return { argv: [...argv], wrapped: false };
  return { argv: [PERL, '-e', WRAPPER, String(nr), ...argv], wrapped: true };
}
