#!/usr/bin/env bash
# Builds the macOS installer target/packages/s1trust-<version>.pkg (run on a Mac with
# Xcode command line tools and rustup), or only assembles its payload tree (any OS).
#
#   packaging/macos/build-pkg.sh                      # universal binary, then the .pkg
#   packaging/macos/build-pkg.sh --binary PATH        # package an existing binary
#   packaging/macos/build-pkg.sh --stage-only [--binary PATH] [--docs-binary PATH]
#                                                     # payload tree + scripts only
#   packaging/macos/build-pkg.sh --out DIR
#
# The payload (target/packaging/pkg/root, installed at /):
#   /usr/local/bin/s1trust                               the program (0755)
#   /usr/local/share/man/man1/s1trust*.1                 man pages
#   /usr/local/share/zsh/site-functions/_s1trust         completions (zsh, bash, fish)
#   /usr/local/etc/bash_completion.d/s1trust
#   /usr/local/share/fish/vendor_completions.d/s1trust.fish
#   /usr/local/share/s1trust/config.example.toml         copied to the config by postinstall
#   /usr/local/share/s1trust/uninstall.sh                removal (--purge: also config/tokens)
#   /usr/local/share/s1trust/mdm/                        MDM scripts and rules (docs/adapters.md)
#   /Library/LaunchDaemons/com.s1trust.refresh.plist     the scheduled refresh (root, 900 s)
#   /Library/LaunchDaemons/com.s1trust.attest.plist      the nonce-bound verdict signer (root)
#   /private/etc/newsyslog.d/s1trust.conf                rotation of its log
# and the scripts (target/packaging/pkg/scripts): preinstall unloads the daemon and
# creates /Library/Application Support/s1trust (0755) with tokens/ (0700), root:wheel;
# postinstall enforces those modes, installs config.toml from the example when there
# is none, and loads the daemon.
#
# --docs-binary: the binary run to render the man pages and completions (default: the
# packaged one; on Linux, stage a macOS binary with --docs-binary target/release/s1trust).
#
# Signing and notarisation (optional; without them the .pkg is unsigned, which MDMs such
# as Jamf or Intune accept when they deploy it, but a double-click install warns):
#   APP_SIGN_IDENTITY="Developer ID Application: Example Corp (TEAMID)"
#       codesign --options runtime --timestamp on the binary before it is packaged
#   PKG_SIGN_IDENTITY="Developer ID Installer: Example Corp (TEAMID)"
#       productbuild --sign (and --timestamp)
#   NOTARY_PROFILE=<profile saved with `xcrun notarytool store-credentials`>
#       xcrun notarytool submit --wait, then xcrun stapler staple (needs both identities)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/packaging/macos
OUT=$ROOT/target/packages
BINARY=
DOCS_BINARY=
STAGE_ONLY=false
IDENTIFIER=com.s1trust.pkg

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [ "$#" -gt 0 ]; do
    case "$1" in
        --binary) BINARY=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
        --docs-binary) DOCS_BINARY=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
        --stage-only) STAGE_ONLY=true; shift ;;
        --out) OUT=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "build-pkg.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done

cd "$ROOT"
VERSION=$(sed -n '/^\[package\]/,/^\[/ s/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
STAGE=$ROOT/target/packaging/pkg

build_universal() {
    # Both architectures in one binary, so one package serves every Mac.
    local arch out=$STAGE/universal
    for arch in aarch64-apple-darwin x86_64-apple-darwin; do
        rustup target add "$arch" >/dev/null
        cargo build --release --locked -p s1trust --bin s1trust --target "$arch"
    done
    mkdir -p "$out"
    lipo -create -output "$out/s1trust" \
        target/aarch64-apple-darwin/release/s1trust target/x86_64-apple-darwin/release/s1trust
    BINARY=$out/s1trust
}

if [ -z "$BINARY" ]; then
    if $STAGE_ONLY || [ "$(uname -s)" != Darwin ]; then
        echo "build-pkg.sh: without --binary this builds a macOS binary, which needs a Mac" >&2
        exit 2
    fi
    rm -rf "$STAGE"
    build_universal
fi
DOCS_BINARY=${DOCS_BINARY:-$BINARY}
[ -x "$BINARY" ] || { echo "build-pkg.sh: $BINARY is not executable" >&2; exit 1; }

PAYLOAD=$STAGE/root
SCRIPTS=$STAGE/scripts
rm -rf "$PAYLOAD" "$SCRIPTS"
# Folders 0755 like the system's own: Installer applies the payload's folder modes.
umask 022
mkdir -p "$PAYLOAD/usr/local/bin" "$PAYLOAD/usr/local/share/man/man1" \
    "$PAYLOAD/usr/local/share/zsh/site-functions" "$PAYLOAD/usr/local/etc/bash_completion.d" \
    "$PAYLOAD/usr/local/share/fish/vendor_completions.d" "$PAYLOAD/usr/local/share/s1trust" \
    "$PAYLOAD/Library/LaunchDaemons" "$PAYLOAD/private/etc/newsyslog.d" "$SCRIPTS" "$OUT"

if [ -n "${APP_SIGN_IDENTITY:-}" ]; then
    # Hardened runtime + secure timestamp: what notarisation requires.
    codesign --force --options runtime --timestamp --sign "$APP_SIGN_IDENTITY" "$BINARY"
fi
install -m 0755 "$BINARY" "$PAYLOAD/usr/local/bin/s1trust"
"$DOCS_BINARY" generate man --out-dir "$PAYLOAD/usr/local/share/man/man1" >/dev/null
chmod 0644 "$PAYLOAD/usr/local/share/man/man1"/*.1
"$DOCS_BINARY" generate completions zsh >"$PAYLOAD/usr/local/share/zsh/site-functions/_s1trust"
"$DOCS_BINARY" generate completions bash >"$PAYLOAD/usr/local/etc/bash_completion.d/s1trust"
"$DOCS_BINARY" generate completions fish >"$PAYLOAD/usr/local/share/fish/vendor_completions.d/s1trust.fish"
install -m 0644 packaging/config.example.toml "$PAYLOAD/usr/local/share/s1trust/config.example.toml"
install -m 0755 "$HERE/uninstall.sh" "$PAYLOAD/usr/local/share/s1trust/uninstall.sh"
cp -R packaging/mdm "$PAYLOAD/usr/local/share/s1trust/mdm"
install -m 0644 "$HERE/com.s1trust.refresh.plist" "$PAYLOAD/Library/LaunchDaemons/com.s1trust.refresh.plist"
install -m 0644 "$HERE/com.s1trust.attest.plist" "$PAYLOAD/Library/LaunchDaemons/com.s1trust.attest.plist"
install -m 0644 "$HERE/newsyslog.conf" "$PAYLOAD/private/etc/newsyslog.d/s1trust.conf"
install -m 0755 "$HERE/scripts/preinstall" "$HERE/scripts/postinstall" "$SCRIPTS/"

if $STAGE_ONLY; then
    echo "$PAYLOAD"
    exit 0
fi

COMPONENT=$STAGE/s1trust-component.pkg
# --ownership recommended: everything root:wheel whoever runs the build.
pkgbuild --root "$PAYLOAD" --scripts "$SCRIPTS" --identifier "$IDENTIFIER" \
    --version "$VERSION" --install-location / --ownership recommended "$COMPONENT"
sed "s/@VERSION@/$VERSION/g" "$HERE/distribution.xml" >"$STAGE/distribution.xml"
PKG=$OUT/s1trust-$VERSION.pkg
sign=()
if [ -n "${PKG_SIGN_IDENTITY:-}" ]; then
    sign=(--sign "$PKG_SIGN_IDENTITY" --timestamp)
fi
# The ${a[@]+...} form: macOS's bash 3.2 calls an empty array unbound under set -u.
productbuild --distribution "$STAGE/distribution.xml" --package-path "$STAGE" ${sign[@]+"${sign[@]}"} "$PKG"
if [ -n "${NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$PKG" --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$PKG"
fi
echo "$PKG"
