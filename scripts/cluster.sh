# Sourced (not run) by `make cluster`, the tests and the benchmarks: N release instances
# (SETTLE_INSTANCES, default 2) of Settle on the database $cluster_db_url, behind HAProxy
# (Debian's haproxy, as an ordinary process with a config written here) on port
# $cluster_port (default 3300; instances on the ports after it). Every instance runs the
# background work; each unit runs on one instance at a time (PostgreSQL advisory locks).
# HAProxy adds X-Forwarded-For, which the instances believe from it alone
# (SETTLE_TRUSTED_PROXIES): the client's address, not the balancer's, keys sign-in limits.
# Sets cluster_url, cluster_pids (instance PIDs), haproxy_pid; `stop_cluster` stops it all.
cluster_port=${cluster_port:-3300}
instances=${SETTLE_INSTANCES:-2}
cluster_dir="$root/target/cluster"
mkdir -p "$cluster_dir"
cluster_pids=()
servers=""
# The instances share one mail catcher (CLUSTER_SMTP_PORT / CLUSTER_MAIL_PORT, default 1126 /
# 1181), as they would share one mail server.
cluster_smtp_port=${CLUSTER_SMTP_PORT:-1126}
cluster_mail_port=${CLUSTER_MAIL_PORT:-1181}
"$root/scripts/mail-catcher.sh" start "$cluster_smtp_port" "$cluster_mail_port"
for i in $(seq 1 "$instances"); do
  port=$((cluster_port + i))
  LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    DATABASE_URL="$cluster_db_url" SETTLE_DEMO=${SETTLE_DEMO:-1} RUST_LOG=${RUST_LOG:-info} \
    SETTLE_SMTP_URL="smtp://127.0.0.1:$cluster_smtp_port" SETTLE_PUBLIC_URL="http://127.0.0.1:$cluster_port" \
    SETTLE_TRUSTED_PROXIES=127.0.0.1 \
    "$target_dir/release/app" \
    >"$cluster_dir/instance-$i.log" 2>&1 &
  cluster_pids+=($!)
  servers+="    server app$i 127.0.0.1:$port check inter 300ms fall 2 rise 2"$'\n'
done
cat >"$cluster_dir/haproxy.cfg" <<CFG
global
    maxconn 4096
defaults
    mode http
    option forwardfor
    option redispatch
    retries 2
    timeout connect 2s
    timeout client 60s
    timeout server 60s
frontend settle
    bind 127.0.0.1:$cluster_port
    default_backend instances
backend instances
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
$servers
CFG
stop_cluster() {
  stop_processes "$haproxy_pid" "${cluster_pids[@]}"
  "$root/scripts/mail-catcher.sh" stop "$cluster_mail_port"
}
trap stop_cluster EXIT
for i in $(seq 1 "$instances"); do
  port=$((cluster_port + i))
  for _ in $(seq 1 300); do
    # Each instance answers only for the public URL (HAProxy's): ask its health check.
    if curl -fs -o /dev/null "http://127.0.0.1:$port/healthz"; then break; fi
    if ! kill -0 "${cluster_pids[$((i - 1))]}" 2>/dev/null; then
      cat "$cluster_dir/instance-$i.log"
      echo "instance $i did not start" >&2
      exit 1
    fi
    sleep 0.2
  done
done
haproxy -f "$cluster_dir/haproxy.cfg" -db >"$cluster_dir/haproxy.log" 2>&1 &
haproxy_pid=$!
cluster_url="http://127.0.0.1:$cluster_port"
for _ in $(seq 1 100); do
  if curl -fs -o /dev/null "$cluster_url/login"; then break; fi
  sleep 0.1
done
