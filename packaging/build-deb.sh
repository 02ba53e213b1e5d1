#!/usr/bin/env bash
# Builds panelftp's Debian package from this repository, and prints its path:
#
#   packaging/build-deb.sh [OUTPUT_DIR]        (default: ./dist)
#
# Needs Go and dpkg-deb. VERSION overrides the package version (default:
# from git, e.g. 0.0.0~git20261203.faf9d20), ARCH the Debian architecture
# (default: this machine's), MAINTAINER the Maintainer field.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-dist}
arch=${ARCH:-$(dpkg --print-architecture)}
case "$arch" in
amd64 | arm64 | s390x | riscv64) goarch=$arch ;;
i386) goarch=386 ;;
armhf) goarch=arm ;;
ppc64el) goarch=ppc64le ;;
*) echo "build-deb.sh: no Go architecture for Debian's $arch" >&2; exit 2 ;;
esac

commit=$(git rev-parse HEAD 2>/dev/null || true)
if [ -z "${VERSION:-}" ]; then
	if tag=$(git describe --tags --exact-match 2>/dev/null); then
		VERSION=${tag#v}
	elif [ -n "$commit" ]; then
		VERSION="0.0.0~git$(git show -s --format=%cd --date=format:%Y%m%d HEAD).${commit:0:7}"
	else
		VERSION=0.0.0~unknown
	fi
	if [ -n "$commit" ] && ! git diff --quiet HEAD 2>/dev/null; then
		VERSION="$VERSION+modified" # built with uncommitted changes
	fi
fi
maintainer=${MAINTAINER:-panelftp maintainers <maintainers@panelftp.invalid>}

root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/usr/lib/systemd/system" \
	"$root/etc/panelftp" "$root/etc/logrotate.d" "$root/usr/share/doc/panelftp"

pkg=github.com/panelftp/panelftp/internal/version
CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=7 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X $pkg.version=$VERSION -X $pkg.commit=$commit" \
	-o "$root/usr/bin/panelftp" ./cmd/panelftp

install -m 0644 packaging/panelftp.service "$root/usr/lib/systemd/system/panelftp.service"
install -m 0640 packaging/panelftp.env "$root/etc/panelftp/panelftp.env"
install -m 0644 packaging/logrotate "$root/etc/logrotate.d/panelftp"
install -m 0644 README.md "$root/usr/share/doc/panelftp/README.md"
install -m 0644 packaging/debian/copyright "$root/usr/share/doc/panelftp/copyright"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
printf '%s\n' /etc/panelftp/panelftp.env /etc/logrotate.d/panelftp >"$root/DEBIAN/conffiles"

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" -e "s|@SIZE@|$size|" \
	packaging/debian/control.in >"$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/panelftp_${VERSION}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
