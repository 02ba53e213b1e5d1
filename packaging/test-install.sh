#!/usr/bin/env bash
# Builds panelftp's Debian package, installs it on this machine with dpkg,
# starts the service as its systemd unit does, and checks it end to end:
# an account and an FTP sub-user made with the installed command line (which
# reads /etc/panelftp/panelftp.env like the unit), then a log-in, an upload
# and a listing over FTP with TLS (curl). At the end it purges the package
# and removes what it made. Run it as root, where panelftp is not installed:
#
#   packaging/test-install.sh
#
# Where systemd is not running (a container), it starts the unit's
# ExecStart itself: with the unit's environment file, its capability
# bounding set and no new privileges (setpriv). FTP listens on port 21,
# or on a free port when 21 is taken.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "test-install: $*" >&2; exit 1; }
step() { echo "test-install: $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

[ "$(id -u)" = 0 ] || fail "run as root: it installs a package"
if dpkg-query -W -f='${Status}' panelftp 2>/dev/null | grep -q 'ok installed'; then
	fail "panelftp is installed already: this test would replace it and then purge it"
fi
[ ! -e /var/lib/panelftp ] || fail "/var/lib/panelftp exists: move it away first (this test removes it at the end)"
for tool in curl python3 setpriv; do command -v "$tool" >/dev/null || fail "needs $tool"; done

unit=/usr/lib/systemd/system/panelftp.service
env_file=/etc/panelftp/panelftp.env
work=$(mktemp -d)
install -d -m 0755 /home
homes=$(mktemp -d /home/panelftp-test.XXXXXX)
systemd=false
[ -d /run/systemd/system ] && systemd=true
pid=
cleanup() {
	status=$?
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
	if [ $status -ne 0 ] && [ -s "$work/serve.log" ]; then echo "--- panelftp serve's output:"; cat "$work/serve.log"; fi
	if $systemd && [ $status -ne 0 ]; then journalctl -u panelftp --no-pager -n 50 || true; fi
	dpkg -P panelftp >/dev/null 2>&1 || true
	rm -rf /var/lib/panelftp "$homes" "$work"
	exit $status
}
trap cleanup EXIT

step "building the package"
deb=$(packaging/build-deb.sh "$work")
step "installing $deb"
dpkg -i "$deb"

version=$(dpkg-query -W -f='${Version}' panelftp)
commit=$(git rev-parse HEAD 2>/dev/null | cut -c1-12 || true)
/usr/bin/panelftp --version | grep -qF "panelftp $version (commit ${commit:-unknown}," ||
	fail "panelftp --version says '$(/usr/bin/panelftp --version)', want version $version and commit ${commit:-unknown}"
[ "$(stat -c %a /var/lib/panelftp)" = 700 ] || fail "/var/lib/panelftp is not 0700"
[ -d /var/log/panelftp ] || fail "no /var/log/panelftp"
grep -qx "$env_file" /var/lib/dpkg/info/panelftp.conffiles || fail "$env_file is not a conffile"
if command -v systemd-analyze >/dev/null; then systemd-analyze verify "$unit"; fi
if command -v logrotate >/dev/null; then logrotate -d /etc/logrotate.d/panelftp >/dev/null 2>&1 || fail "logrotate refuses /etc/logrotate.d/panelftp"; fi
if $systemd && systemctl is-active --quiet panelftp; then fail "a fresh install started the service"; fi

ftp_port=21
if port_taken 21; then ftp_port=$(free_port); fi
panel_port=$(free_port)
pasv=$((30000 + RANDOM % 20000))
step "configuring $env_file: FTP on 127.0.0.1:$ftp_port, panel on 127.0.0.1:$panel_port"
cat >>"$env_file" <<CONF
PANELFTP_FTP_LISTEN=127.0.0.1:$ftp_port
PANELFTP_PANEL_LISTEN=127.0.0.1:$panel_port
PANELFTP_PASSIVE_PORTS=$pasv-$((pasv + 20))
PANELFTP_PUBLIC_HOST=127.0.0.1
PANELFTP_TRANSFER_LOG=/var/log/panelftp/xfer.log
CONF

# The command line as an administrator runs it: no PANELFTP_* in the
# shell, so the data directory comes from the environment file.
cli() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/bin/panelftp "$@"; }
admin_pw='Panel!Install9'
ftp_pw='Ftp-Install#42'
step "creating the database, the administrator, account acme and FTP user web.acme with the installed CLI"
if cli account list >/dev/null 2>&1; then fail "the CLI worked before 'panelftp init' made a database"; fi
cli init
printf '%s\n' "$admin_pw" | cli admin add admin --password-stdin
cli account add acme --home "$homes/acme" --uid 65534 --gid 65534
printf '%s\n' "$ftp_pw" | cli ftp add web.acme - /site acme
[ -n "$(ls -A /var/lib/panelftp)" ] || fail "the CLI did not use /var/lib/panelftp"
cli ftp list acme | grep -q '^web.acme ' || fail "ftp list does not show web.acme"

if $systemd; then
	step "starting panelftp.service"
	systemctl start panelftp
else
	exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' | sed -e 's/cap_/+/g' -e 's/ /,/g')
	step "no systemd here: running '$exec_start' with $env_file, no new privileges and capabilities $caps"
	(
		set -a
		. "$env_file"
		set +a
		exec setpriv --no-new-privs --inh-caps=-all --bounding-set="-all,$caps" $exec_start
	) >"$work/serve.log" 2>&1 &
	pid=$!
fi

for _ in $(seq 1 100); do
	if curl -s --max-time 2 "ftp://127.0.0.1:$ftp_port/" -u x:y >/dev/null 2>&1 || [ $? = 67 ]; then break; fi
	sleep 0.2
done

step "FTP over TLS: log in, upload, list"
url="ftp://127.0.0.1:$ftp_port"
printf 'uploaded through the installed package\n' >"$work/hello.txt"
curl -sS --ssl-reqd -k -u "web.acme:$ftp_pw" -T "$work/hello.txt" "$url/hello.txt"
curl -sS --ssl-reqd -k -u "web.acme:$ftp_pw" "$url/" | grep -q 'hello.txt' || fail "the listing lacks hello.txt"
[ "$(cat "$homes/acme/site/hello.txt")" = "uploaded through the installed package" ] || fail "the upload is not in acme's /site"
[ "$(stat -c %u:%g "$homes/acme/site/hello.txt")" = 65534:65534 ] ||
	fail "the upload belongs to $(stat -c %u:%g "$homes/acme/site/hello.txt"), not to acme's 65534:65534"
if curl -sS --ssl-reqd -k -u "web.acme:wrong-Password1" "$url/" >/dev/null 2>&1; then fail "a wrong password logged in"; fi

# The transfer log the settings name is open (what goes into it is the
# FTP engine's tests' business; the rotation is logrotate's).
[ -f /var/log/panelftp/xfer.log ] || fail "serve did not open the transfer log /var/log/panelftp/xfer.log"

step "the web panel answers"
curl -fsS "http://127.0.0.1:$panel_port/admin/login" | grep -q 'Administrator log-in' || fail "no admin log-in page"
if ! $systemd && grep -q 'First start' "$work/serve.log"; then fail "serve made a second administrator"; fi

step "stopping"
if $systemd; then
	systemctl stop panelftp
else
	kill -TERM "$pid"
	wait "$pid" || fail "panelftp serve exited with status $? on SIGTERM"
	pid=
fi

step "purging the package"
dpkg -P panelftp
[ ! -e /usr/bin/panelftp ] && [ ! -e "$env_file" ] && [ ! -e "$unit" ] || fail "purge left files behind"
step "ok"
