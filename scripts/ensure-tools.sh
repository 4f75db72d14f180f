#!/bin/sh
# Makes sure the Debian tools that the tests (or the benchmarks) drive are installed, so that
# `npm ci && npm test` is all a fresh machine needs. Run by `pretest` and `prebench`.
#
#   scripts/ensure-tools.sh test|bench
#
# Every check is a file or PATH lookup (a few milliseconds when all is present). When something is
# missing: as root, `apt-get install` just those packages, quietly; otherwise stop at once and print
# the command that installs them.
set -eu

purpose=${1:-test}
what='tests'; [ "$purpose" = bench ] && what='benchmarks'
missing=''
need() { # need <debian package> <what the check looked for>
  case " $missing " in *" $1 "*) ;; *) missing="${missing:+$missing }$1" ;; esac
  found="${found:+$found, }$2"
}
has() { command -v "$1" >/dev/null 2>&1; }
found=''

case "$purpose" in
  test)
    # Real clients over TCP (OpenSSH sftp, ssh-keygen, curl, Paramiko, rclone), a private sshd and
    # ssh-audit to compare with, xmllint for KOMBIT's schemas, chromium for the portal's browser tests.
    has sftp && has ssh && has ssh-keygen || need openssh-client 'sftp/ssh/ssh-keygen'
    [ -x /usr/sbin/sshd ] || need openssh-server /usr/sbin/sshd
    has xmllint || need libxml2-utils xmllint
    # The fault tests run private Redis and PostgreSQL servers of their own (beside the machine's).
    has redis-server || need redis-server redis-server
    has redis-cli || need redis-tools redis-cli
    [ -x "${TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/initdb" ] || need postgresql "${TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/initdb"
    has curl || need curl curl
    has ssh-audit || need ssh-audit ssh-audit
    [ -f /usr/lib/python3/dist-packages/paramiko/__init__.py ] || need python3-paramiko 'python3 paramiko'
    has chromium || need chromium chromium
    has rclone || need rclone rclone
    # The router's durability test watches serve's fsyncs with strace.
    has strace || need strace strace
    ;;
  bench)
    # OpenSSH's internal-sftp on a private sshd is the yardstick; its client and keys drive both.
    has sftp && has ssh-keygen || need openssh-client 'sftp/ssh-keygen'
    [ -x /usr/sbin/sshd ] || need openssh-server /usr/sbin/sshd
    ;;
  *)
    echo "ensure-tools: unknown purpose '$purpose' (use 'test' or 'bench')" >&2
    exit 2
    ;;
esac

[ -z "$missing" ] && exit 0

install="apt-get install -y $missing"
if [ "$(id -u)" != 0 ]; then
  echo "The $what need tools that are not installed ($found). Install them as root, then run again:" >&2
  echo "  $install" >&2
  exit 1
fi
if ! has apt-get; then
  echo "The $what need tools that are not installed ($found); on Debian or Ubuntu: $install" >&2
  exit 1
fi

echo "Installing what the $what need: $missing" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing; } >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "Could not install them; try as root: apt-get update && $install" >&2
  exit 1
fi
