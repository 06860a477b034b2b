#!/usr/bin/env bash
# `make run`: a private httpd serving mod_ragchat on http://127.0.0.1:8000/chat/,
# in the foreground until Ctrl-C, with its state in ./data (kept between runs).
#
# Settings, from the environment or else from the reference's .env (the project
# root's, else its parent's; plain KEY=VALUE lines, quotes stripped, never
# executed as shell). The environment wins, as with python-dotenv.
#   FASTAPI_URL           the RAG backend; unset: the built-in retrieval backend
#   API_KEY               its bearer key
#   APP_USER/APP_PASSWORD the login (default admin/admin, as in the reference)
#   CHAINLIT_AUTH_SECRET  signs the session cookies; unset: a secret generated
#                         once into data/secret
# Overrides for tests and tinkering:
#   RAGCHAT_PORT (8000), RAGCHAT_DATA (./data), RAGCHAT_ENV_FILE (a .env file to
#   read instead; empty or /dev/null: none), RAGCHAT_MODULE (the .so to load),
#   RAGCHAT_PGSQL (DBDParams of DBDriver pgsql, e.g. "host=/run/postgresql
#   dbname=ragchat user=ragchat": the history in PostgreSQL instead of
#   data/chat_history.db).
#
# Run as root, the children run as www-data, so everything they touch at
# request time (the database and its directory, data/secret, the htdocs copy)
# belongs to www-data, while logs/ and run/ (opened by the root parent) stay
# root's. When www-data cannot reach the data directory (a repository in a
# private home), the state lives in /var/lib/ragchat-dev/<id> instead and
# data/ becomes a symlink to it.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true   # "&" is literal in ${x//a/b}

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
APACHE=/usr/sbin/apache2
MODULES=/usr/lib/apache2/modules
MODULE="${RAGCHAT_MODULE:-$ROOT/build/mod_ragchat.so}"
PORT="${RAGCHAT_PORT:-8000}"
DATA="${RAGCHAT_DATA:-$ROOT/data}"

die() { echo "run: $*" >&2; exit 1; }
warn() { echo "run: WARNING: $*" >&2; }

[[ $PORT =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] \
    || die "RAGCHAT_PORT '$PORT' is not a port number"
[ -x "$APACHE" ] || die "$APACHE is missing (make deps installs apache2)"
[ -f "$MODULE" ] || die "$MODULE is missing: run make first"
case "$DATA" in /*) ;; *) DATA="$PWD/$DATA" ;; esac

# ---- .env ---------------------------------------------------------------------
ENV_FILE=""
if [ -n "${RAGCHAT_ENV_FILE+x}" ]; then
    ENV_FILE="$RAGCHAT_ENV_FILE"
    [ "$ENV_FILE" = /dev/null ] && ENV_FILE=""
    [ -z "$ENV_FILE" ] || [ -f "$ENV_FILE" ] || die "RAGCHAT_ENV_FILE: no such file: $ENV_FILE"
elif [ -f "$ROOT/.env" ]; then
    ENV_FILE="$ROOT/.env"
elif [ -f "$ROOT/../.env" ]; then
    ENV_FILE="$(cd "$ROOT/.." && pwd)/.env"
fi

trim() { local s="$1"; s="${s#"${s%%[![:space:]]*}"}"; printf '%s' "${s%"${s##*[![:space:]]}"}"; }

# KEY=VALUE, "export KEY=VALUE", # comments, 'single' or "double" quotes (kept
# literally inside), an unquoted value ends at " #". Only the reference's names.
read_env_file() {
    local line key val n=0
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        line="$(trim "${line%$'\r'}")"
        [[ -z $line || $line == \#* ]] && continue
        [[ $line == export[[:space:]]* ]] && line="$(trim "${line#export}")"
        [[ $line == *=* ]] || { warn "$1:$n: not KEY=VALUE, ignored"; continue; }
        key="$(trim "${line%%=*}")"
        val="$(trim "${line#*=}")"
        case "$key" in
            FASTAPI_URL|API_KEY|APP_USER|APP_PASSWORD|CHAINLIT_AUTH_SECRET) ;;
            *) continue ;;
        esac
        if [[ ${#val} -ge 2 && ( ( $val == \"*\" && $val == *\" ) || ( $val == \'*\' && $val == *\' ) ) ]]; then
            val="${val:1:${#val}-2}"
        else
            val="$(trim "${val%%[[:space:]]#*}")"
        fi
        if [ -z "${!key+x}" ]; then
            printf -v "$key" '%s' "$val"
            export "$key"
        fi
    done < "$1"
}
PW_SOURCE="the environment"
[ -n "${APP_PASSWORD+x}" ] || PW_SOURCE="${ENV_FILE:-the environment}"
[ -z "$ENV_FILE" ] || read_env_file "$ENV_FILE"

APP_USER="${APP_USER:-admin}"
APP_PASSWORD="${APP_PASSWORD:-admin}"
export APP_USER APP_PASSWORD

BACKEND=builtin
BACKEND_KEY=""
if [ -n "${FASTAPI_URL:-}" ]; then
    [[ $FASTAPI_URL =~ ^https?://[^[:space:]\"\\]+$ ]] \
        || die "FASTAPI_URL '$FASTAPI_URL' is not an http(s) URL"
    BACKEND="$FASTAPI_URL"
    if [ -n "${API_KEY:-}" ]; then
        export API_KEY
        BACKEND_KEY="    RagChatBackendKey env:API_KEY"
    fi
fi

# ---- where the state lives ----------------------------------------------------
AS_ROOT=0
[ "$(id -u)" = 0 ] && AS_ROOT=1
if [ "$AS_ROOT" = 1 ] && ! id www-data >/dev/null 2>&1; then
    die "running as root needs the www-data user (the children switch to it)"
fi

# 1 when www-data can reach dir's parent (every ancestor searchable).
www_reaches() {
    runuser -u www-data -- test -x "$(dirname "$1")" 2>/dev/null
}

STORE="$DATA"
if [ "$AS_ROOT" = 1 ] && ! www_reaches "$DATA"; then
    id="$(printf '%s' "$DATA" | sha256sum | cut -c1-12)"
    STORE="/var/lib/ragchat-dev/$id"
    install -d -m 755 /var/lib/ragchat-dev
    mkdir -p "$STORE"
    if [ -L "$DATA" ]; then
        [ "$(readlink "$DATA")" = "$STORE" ] || { rm -f "$DATA"; ln -s "$STORE" "$DATA"; }
    else
        mkdir -p "$(dirname "$DATA")"
        if [ -d "$DATA" ]; then
            # State of an earlier run moves along (never overwriting).
            find "$DATA" -mindepth 1 -maxdepth 1 -exec mv -n -t "$STORE" {} + 2>/dev/null || true
            rmdir "$DATA" 2>/dev/null || die "$DATA could not be moved to $STORE"
        fi
        ln -s "$STORE" "$DATA"
    fi
    echo "run: www-data cannot enter $(dirname "$DATA"): the state lives in $STORE ($DATA links to it)"
fi
mkdir -p "$STORE"
STORE="$(cd "$STORE" && pwd -P)"
LOGS="$STORE/logs"
RUN="$STORE/run"
DB="$STORE/chat_history.db"

# logs/ and run/ are opened by the root parent: real root-owned directories,
# so the www-data-owned directory around them cannot redirect them.
for d in "$LOGS" "$RUN"; do
    if [ -L "$d" ] || { [ -e "$d" ] && [ ! -d "$d" ]; }; then rm -f "$d"; fi
    mkdir -p "$d"
    if [ "$AS_ROOT" = 1 ]; then
        chown root:root "$d"
        find "$d" -mindepth 1 \( -type l -o ! -user root \) -exec rm -rf {} + 2>/dev/null || true
    fi
    chmod 755 "$d"
done

rm -rf "$STORE/htdocs"
cp -r "$ROOT/htdocs" "$STORE/htdocs"
chmod -R u=rwX,go=rX "$STORE/htdocs"

SECRET_FILE="$STORE/secret"
SECRET_NOTE=""
if [ -n "${CHAINLIT_AUTH_SECRET:-}" ]; then
    if [ "${#CHAINLIT_AUTH_SECRET}" -ge 32 ]; then
        export CHAINLIT_AUTH_SECRET
        SECRET="env:CHAINLIT_AUTH_SECRET"
    else
        # The module wants 32 bytes or more: the same short secret always
        # gives the same derived one, so sessions survive restarts.
        warn "CHAINLIT_AUTH_SECRET is shorter than 32 characters: using its SHA-256;" \
             "generate a longer one: python3 -c 'import secrets; print(secrets.token_hex(32))'"
        RAGCHAT_DEV_SECRET="$(printf '%s' "$CHAINLIT_AUTH_SECRET" | sha256sum | cut -c1-64)"
        export RAGCHAT_DEV_SECRET
        SECRET="env:RAGCHAT_DEV_SECRET"
    fi
    SECRET_NOTE="CHAINLIT_AUTH_SECRET"
else
    if [ -L "$SECRET_FILE" ] || [ ! -s "$SECRET_FILE" ]; then
        rm -f "$SECRET_FILE"
        (umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$SECRET_FILE")
        echo "run: generated a session secret in $SECRET_FILE"
    fi
    chmod 600 "$SECRET_FILE"
    SECRET="\"file:$SECRET_FILE\""
    SECRET_NOTE="$SECRET_FILE"
fi

USER_GROUP=""
if [ "$AS_ROOT" = 1 ]; then
    USER_GROUP=$'User www-data\nGroup www-data'
    chown www-data:www-data "$STORE"
    chmod 750 "$STORE"
    for f in "$DB" "$DB-wal" "$DB-shm" "$SECRET_FILE"; do
        [ -e "$f" ] && [ ! -L "$f" ] && chown www-data:www-data "$f"
    done
fi

# ---- the database ---------------------------------------------------------------
DBD="DBDriver sqlite3"$'\n'"DBDParams \"$DB\""
if [ -n "${RAGCHAT_PGSQL:-}" ]; then
    [[ $RAGCHAT_PGSQL != *[\"$'\n\r\\']* ]] \
        || die "RAGCHAT_PGSQL must not hold quotes, backslashes or line breaks"
    ls /usr/lib/*/apr-util-1/apr_dbd_pgsql*.so >/dev/null 2>&1 \
        || die "RAGCHAT_PGSQL needs APR's pgsql driver: apt install libaprutil1-dbd-pgsql"
    DBD="DBDriver pgsql"$'\n'"DBDParams \"$RAGCHAT_PGSQL\""
    echo "run: the history is in PostgreSQL (DBDParams of RAGCHAT_PGSQL)"
fi

# ---- the configuration --------------------------------------------------------
CONF="$RUN/httpd.conf"
conf="$(cat "$ROOT/conf/dev.conf.in")"
conf="${conf//@ROOT@/$STORE}"
conf="${conf//@RUN@/$RUN}"
conf="${conf//@LOGS@/$LOGS}"
conf="${conf//@PORT@/$PORT}"
conf="${conf//@USER_GROUP@/$USER_GROUP}"
conf="${conf//@MODULES@/$MODULES}"
conf="${conf//@MODULE@/$MODULE}"
conf="${conf//@DBD@/$DBD}"
conf="${conf//@BACKEND@/$BACKEND}"
conf="${conf//@BACKEND_KEY@/$BACKEND_KEY}"
conf="${conf//@SECRET@/$SECRET}"
printf '%s\n' "$conf" > "$CONF"

if [ -f "$RUN/httpd.pid" ] && kill -0 "$(cat "$RUN/httpd.pid" 2>/dev/null)" 2>/dev/null; then
    die "a server of this data directory is already running (pid $(cat "$RUN/httpd.pid"))"
fi

# ---- run in the foreground ----------------------------------------------------
env_cmd=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
         APP_USER="$APP_USER" APP_PASSWORD="$APP_PASSWORD")
[ -z "${API_KEY:-}" ] || env_cmd+=(API_KEY="$API_KEY")
[ -z "${CHAINLIT_AUTH_SECRET:-}" ] || env_cmd+=(CHAINLIT_AUTH_SECRET="$CHAINLIT_AUTH_SECRET")
[ -z "${RAGCHAT_DEV_SECRET:-}" ] || env_cmd+=(RAGCHAT_DEV_SECRET="$RAGCHAT_DEV_SECRET")

"${env_cmd[@]}" "$APACHE" -f "$CONF" -DFOREGROUND &
HTTPD=$!

stop() {
    trap '' INT TERM HUP
    echo
    echo "run: stopping httpd (pid $HTTPD)"
    kill -TERM "$HTTPD" 2>/dev/null || true
    wait "$HTTPD" 2>/dev/null || true
    echo "run: stopped; the data stays in $DATA"
    exit 0
}
trap stop INT TERM HUP

# Ready when the port answers; an early exit is reported with the log's end.
ready=0
for _ in $(seq 1 100); do
    if ! kill -0 "$HTTPD" 2>/dev/null; then
        break
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
if [ "$ready" != 1 ]; then
    kill -TERM "$HTTPD" 2>/dev/null || true
    wait "$HTTPD" 2>/dev/null || true
    echo "run: httpd did not start; the end of $LOGS/error.log:" >&2
    tail -n 15 "$LOGS/error.log" >&2 2>/dev/null || true
    exit 1
fi

if [ "$BACKEND" = builtin ]; then
    what="built-in retrieval backend (no FASTAPI_URL): upload documents, then ask about them"
else
    what="backend $BACKEND (FASTAPI_URL)${BACKEND_KEY:+ with API_KEY}"
fi
cat <<EOF

mod_ragchat is running, with the $what.
  Open:     http://127.0.0.1:$PORT/chat/
EOF
if [ "$APP_USER" = admin ] && [ "$APP_PASSWORD" = admin ]; then
    echo "  Log in:   user \"admin\", password \"admin\""
    echo "  WARNING:  these are the reference's default credentials; set APP_USER and" \
         "APP_PASSWORD in .env for anything but a local try"
else
    echo "  Log in:   user \"$APP_USER\" with the APP_PASSWORD of $PW_SOURCE"
fi
cat <<EOF
  Settings: ${ENV_FILE:-no .env file (defaults)}; session secret: $SECRET_NOTE
  Data:     $DATA (chat_history.db; logs in logs/)
  Stop:     Ctrl-C

EOF

set +e
wait "$HTTPD"
rc=$?
# wait returns early when a trapped signal arrives: stop() takes over then.
# Ctrl-C reaches httpd too, which stops cleanly (0) - possibly before the trap
# runs, or instead of it where SIGINT was ignored when this script started
# (a shell cannot trap a signal ignored at entry).
if [ "$rc" = 0 ]; then
    echo "run: stopped; the data stays in $DATA"
    exit 0
fi
echo "run: httpd exited ($rc); see $LOGS/error.log" >&2
exit "$rc"
