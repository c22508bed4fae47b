#!/bin/bash
# Starts PostgreSQL on $PGDATA. On the first start (an empty data folder) it initialises the
# cluster with the superuser password POSTGRES_PASSWORD, then creates, for every name in
# QLCB_DATABASES, a login role and a database it owns, with the password QLCB_DB_PASSWORD_<NAME>
# (upper case). The roles may create databases: backup's restore drill restores into a new one.
# Every connection from the network must log in with a password (scram-sha-256).
set -euo pipefail

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required for the first start}"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb --pgdata="$PGDATA" --username=postgres --pwfile="$pwfile" --auth-local=peer \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  {
    echo "listen_addresses = '*'"
    echo "password_encryption = 'scram-sha-256'"
    # /tmp: writable by this user under a read-only root file system too (a tmpfs there).
    echo "unix_socket_directories = '/tmp'"
  } >> "$PGDATA/postgresql.conf"
  {
    echo "host all all 0.0.0.0/0 scram-sha-256"
    echo "host all all ::/0 scram-sha-256"
  } >> "$PGDATA/pg_hba.conf"
  pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait --silent start
  for name in ${QLCB_DATABASES:-}; do
    variable="QLCB_DB_PASSWORD_${name^^}"
    password=${!variable:?$variable is required for the database $name}
    psql --username=postgres --dbname=postgres --set=ON_ERROR_STOP=1 --quiet \
      --set=name="$name" --set=password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'name', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name') \gexec
SQL
  done
  pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
fi

exec postgres -D "$PGDATA" "$@"
