# Source me: start a throwaway PostgreSQL cluster for the engine tests and export
# CHATBI_TEST_PG_DSN; `chatbi_pg_stop` (registered on EXIT by .ci/run) removes it.
# Debian's postgresql: binaries in /usr/lib/postgresql/<major>/bin. initdb refuses
# root, so as root the cluster runs as the `postgres` user (created by the package).
chatbi_pg_start() {
  local bindir port sudo_u
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bindir" ] && [ -x "$bindir/initdb" ] || { echo "postgresql not installed" >&2; return 1; }
  CHATBI_PG_DIR=$(mktemp -d /tmp/chatbi-pg.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  sudo_u=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$CHATBI_PG_DIR"
    sudo_u=(runuser -u postgres --)
  fi
  CHATBI_PG_RUN=("${sudo_u[@]}")
  "${sudo_u[@]}" "$bindir/initdb" -D "$CHATBI_PG_DIR/data" -U chatbi --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  "${sudo_u[@]}" "$bindir/pg_ctl" -D "$CHATBI_PG_DIR/data" -l "$CHATBI_PG_DIR/log" -w \
    -o "-p $port -k $CHATBI_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
  CHATBI_PG_BIN=$bindir
  export CHATBI_TEST_PG_DSN="postgresql://chatbi@127.0.0.1:$port/postgres"
  echo "+ PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on port $port ($CHATBI_PG_DIR)"
}

chatbi_pg_stop() {
  [ -n "${CHATBI_PG_DIR:-}" ] || return 0
  "${CHATBI_PG_RUN[@]}" "$CHATBI_PG_BIN/pg_ctl" -D "$CHATBI_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$CHATBI_PG_DIR"
  CHATBI_PG_DIR=""
}
