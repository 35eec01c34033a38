#!/usr/bin/env bash
# Builds the Debian package target/packages/s1trust_<version>-<revision>_amd64.deb.
#
#   packaging/deb/build-deb.sh                    # cargo build --release, then package
#   packaging/deb/build-deb.sh --binary PATH      # package an existing Linux binary
#   packaging/deb/build-deb.sh --out DIR          # put the .deb (and .buildinfo/.changes) in DIR
#
# Steps: the release binary (rustup toolchain, Cargo.lock respected); man pages and
# bash/zsh/fish completions rendered by that binary from its clap definition
# (`s1trust generate`, hidden); a staging tree holding packaging/deb/debian plus those
# files; `dpkg-buildpackage -b` there, so debhelper writes the maintainer-script
# fragments (systemd timer enable/start/purge), marks /etc/s1trust/config.toml as a
# conffile, compresses man pages and computes the libc dependency.
#
# Needs debhelper and dpkg-dev (apt-get install debhelper). No root needed.
# Environment: DEB_MAINTAINER ("Name <mail>"), DEB_REVISION (default 1),
# SOURCE_DATE_EPOCH (default: the last commit's time, for a reproducible changelog).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$ROOT/target/packages
BINARY=

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [ "$#" -gt 0 ]; do
    case "$1" in
        --binary) BINARY=$(realpath "$2"); shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "build-deb.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done

for tool in dpkg-buildpackage dh; do
    command -v "$tool" >/dev/null || { echo "build-deb.sh: $tool missing: apt-get install debhelper" >&2; exit 1; }
done

cd "$ROOT"
VERSION=$(sed -n '/^\[package\]/,/^\[/ s/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
[ -n "$VERSION" ] || { echo "build-deb.sh: no version in Cargo.toml" >&2; exit 1; }
REVISION=${DEB_REVISION:-1}
MAINTAINER=${DEB_MAINTAINER:-s1trust maintainers <s1trust@users.noreply.github.com>}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

if [ -z "$BINARY" ]; then
    cargo build --release --locked -p s1trust --bin s1trust
    BINARY=$ROOT/target/release/s1trust
fi
[ -x "$BINARY" ] || { echo "build-deb.sh: $BINARY is not an executable" >&2; exit 1; }
# The package must carry the version it is named after.
"$BINARY" --version | grep -qx "s1trust $VERSION" \
    || { echo "build-deb.sh: $BINARY reports '$("$BINARY" --version)', expected s1trust $VERSION" >&2; exit 1; }

STAGE=$ROOT/target/packaging/deb/s1trust-$VERSION
rm -rf "$ROOT/target/packaging/deb"
mkdir -p "$STAGE/build/man" "$STAGE/build/completions"/{bash,zsh,fish} "$OUT"

# What the package installs, under the names debian/s1trust.install expects.
install -m 0755 "$BINARY" "$STAGE/build/s1trust"
install -m 0644 packaging/config.example.toml "$STAGE/build/config.toml"
install -m 0644 README.md "$STAGE/build/README.md"
cp -R packaging/mdm "$STAGE/build/mdm"
"$BINARY" generate man --out-dir "$STAGE/build/man" >/dev/null
"$BINARY" generate completions bash >"$STAGE/build/completions/bash/s1trust"
"$BINARY" generate completions zsh >"$STAGE/build/completions/zsh/_s1trust"
"$BINARY" generate completions fish >"$STAGE/build/completions/fish/s1trust.fish"

cp -R packaging/deb/debian "$STAGE/debian"
# debhelper's naming for `dh_installsystemd --name=s1trust-refresh`.
cp packaging/deb/s1trust-refresh.service "$STAGE/debian/s1trust.s1trust-refresh.service"
cp packaging/deb/s1trust-refresh.timer "$STAGE/debian/s1trust.s1trust-refresh.timer"
cp packaging/deb/s1trust-attest.service "$STAGE/debian/s1trust.s1trust-attest.service"
cp packaging/deb/s1trust-attest.socket "$STAGE/debian/s1trust.s1trust-attest.socket"
sed -i "s|@MAINTAINER@|$MAINTAINER|" "$STAGE/debian/control"
# The Debian changelog is generated: the project's history is in git, and the package
# version must follow Cargo.toml.
cat >"$STAGE/debian/changelog" <<EOF
s1trust ($VERSION-$REVISION) unstable; urgency=medium

  * s1trust $VERSION, packaged from the project repository.

 -- $MAINTAINER  $(date -u -R -d "@$SOURCE_DATE_EPOCH")
EOF

# -b: binary only (no source package); -us -uc: no signing here; -d: build
# dependencies are checked above by hand (debhelper), not via dpkg's database, so
# this also works where debhelper came from elsewhere.
(cd "$STAGE" && dpkg-buildpackage -b -us -uc -d >"$ROOT/target/packaging/deb/dpkg-buildpackage.log" 2>&1) || {
    cat "$ROOT/target/packaging/deb/dpkg-buildpackage.log" >&2
    echo "build-deb.sh: dpkg-buildpackage failed" >&2
    exit 1
}
DEB=s1trust_${VERSION}-${REVISION}_amd64.deb
for f in "$DEB" "s1trust_${VERSION}-${REVISION}_amd64.buildinfo" "s1trust_${VERSION}-${REVISION}_amd64.changes"; do
    mv -f "$ROOT/target/packaging/deb/$f" "$OUT/"
done
echo "$OUT/$DEB"
