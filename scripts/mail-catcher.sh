#!/usr/bin/env bash
# The local mail catcher (MailDev, from npm; pinned in end2end/package.json): a real SMTP server
# that keeps every message and shows it in a web inbox, with a JSON API the browser tests read.
#   mail-catcher.sh start SMTP_PORT WEB_PORT   starts it (unless it already answers) and waits
#   mail-catcher.sh stop WEB_PORT              stops the one started for WEB_PORT
# Its pid is in target/mail-catcher-WEB_PORT.pid; messages live in memory (a restart empties it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command=${1:?start or stop}
case "$command" in
  start)
    smtp=${2:?SMTP port}
    web=${3:?web port}
    ;;
  stop)
    web=${2:?web port}
    ;;
  *)
    echo "usage: mail-catcher.sh start SMTP_PORT WEB_PORT | stop WEB_PORT" >&2
    exit 2
    ;;
esac
pidfile="$root/target/mail-catcher-$web.pid"
mkdir -p "$root/target"
if [ "$command" = stop ]; then
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$(cat "$pidfile")" 2>/dev/null || break
      sleep 0.1
    done
    rm -f "$pidfile"
  fi
  exit 0
fi
if curl -fs -o /dev/null "http://127.0.0.1:$web/api/healthz"; then
  exit 0
fi
maildev="$root/end2end/node_modules/.bin/maildev"
if [ ! -x "$maildev" ]; then
  echo "MailDev is not installed: run make tools" >&2
  exit 1
fi
log="$root/target/mail-catcher-$web.log"
# Its own session, so it outlives the shell that started it (a browser test restarts it).
setsid "$maildev" --smtp "$smtp" --ip 127.0.0.1 --web "$web" --web-ip 127.0.0.1 >"$log" 2>&1 </dev/null &
echo $! >"$pidfile"
for _ in $(seq 1 100); do
  if curl -fs -o /dev/null "http://127.0.0.1:$web/api/healthz"; then
    exit 0
  fi
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    cat "$log" >&2
    echo "the mail catcher did not start" >&2
    exit 1
  fi
  sleep 0.1
done
echo "the mail catcher did not answer on :$web" >&2
exit 1
