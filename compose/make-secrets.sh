#!/usr/bin/env bash
# Makes every secret the compose stack needs, in compose/secrets/ (kept out of git and of the
# image's build context), or in the directory given; an existing one is kept. Needs openssl.
set -euo pipefail
dir="${1:-$(cd "$(dirname "$0")" && pwd)/secrets}"
# The directory is the owner's alone; the files are readable so that the containers' own
# users can read them where compose mounts them.
mkdir -p "$dir"
chmod 700 "$dir"
umask 022
create() { # create <file> <command…>: runs the command to write <file> unless it exists
  local file="$dir/$1"; shift
  if [ -e "$file" ]; then echo "kept  $file"; else "$@" > "$file"; echo "made  $file"; fi
}
create jwt-signing-key.pem openssl genpkey -algorithm ed25519
create mail-opening-key.pem openssl genpkey -algorithm x25519
create mail-sealing-key.pem openssl pkey -in "$dir/mail-opening-key.pem" -pubout
for name in postgres core core-migrator commercial commercial-migrator finance finance-migrator \
            engagement engagement-migrator logistics logistics-migrator; do
  create "db-$name.password" openssl rand -hex 24
done
for name in core commercial finance engagement logistics operator; do
  create "nats-$name.password" openssl rand -hex 24
done
# Finance serves issued invoices' PDFs to logistics with this token (never to users).
create internal-token openssl rand -hex 32
# Logistics encrypts carrier credentials (Maileva's) at rest with this key.
create logistics-vault-key openssl rand -base64 32
