#!/usr/bin/env bash
# Builds the Windows installer target/packages/s1trust-<version>-x64.msi with Debian's
# wixl (apt-get install wixl) from packaging/windows/s1trust.wxs.
#
#   packaging/windows/build-msi.sh                  # uses target/cross/out/s1trust.exe
#   packaging/windows/build-msi.sh --exe PATH       # any x86_64 Windows build of s1trust
#   packaging/windows/build-msi.sh --version 0.1.1  # override the version (upgrade tests)
#   packaging/windows/build-msi.sh --out DIR
#
# s1trust.exe comes from the cross-build (.ci/cross-setup, then .ci/cross-windows-build:
# x86_64-pc-windows-gnu, release). Only s1trust.exe, config.example.toml and the
# Windows MDM files of packaging/mdm (the PowerShell scripts, Intune's rules.json) go
# into the MSI; the Wine test helpers next to it in target/cross/out never do.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EXE=$ROOT/target/cross/out/s1trust.exe
OUT=$ROOT/target/packages
VERSION=

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [ "$#" -gt 0 ]; do
    case "$1" in
        --exe) EXE=$(realpath "$2"); shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --version) VERSION=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "build-msi.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done

command -v wixl >/dev/null || { echo "build-msi.sh: wixl missing: apt-get install wixl" >&2; exit 1; }
[ -s "$EXE" ] || { echo "build-msi.sh: $EXE missing: run .ci/cross-setup and .ci/cross-windows-build" >&2; exit 1; }
# A PE32+ x86-64 image, not a stray Linux binary (file(1) may be absent; read the
# PE header: "MZ", then the PE offset at 0x3c, then machine 0x8664).
pe_off=$(od -An -tu4 -j60 -N4 "$EXE" | tr -d ' ')
if [ "$(head -c2 "$EXE")" != MZ ] || [ "$(od -An -tx2 -j"$((pe_off + 4))" -N2 "$EXE" | tr -d ' ')" != 8664 ]; then
    echo "build-msi.sh: $EXE is not an x86-64 Windows executable" >&2
    exit 1
fi

cd "$ROOT"
if [ -z "$VERSION" ]; then
    VERSION=$(sed -n '/^\[package\]/,/^\[/ s/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
fi
# MSI versions are major.minor.build with numbers only; a Cargo pre-release suffix
# (-beta.1) cannot be expressed and would break upgrade detection.
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] \
    || { echo "build-msi.sh: version '$VERSION' is not N.N.N, which an MSI needs" >&2; exit 1; }

STAGE=$ROOT/target/packaging/msi
rm -rf "$STAGE"
mkdir -p "$STAGE" "$OUT"
cp "$EXE" "$STAGE/s1trust.exe"
cp packaging/config.example.toml "$STAGE/config.example.toml"
mkdir -p "$STAGE/mdm/intune" "$STAGE/mdm/workspace-one"
cp packaging/mdm/intune/s1trust-compliance.ps1 packaging/mdm/intune/rules.json "$STAGE/mdm/intune/"
cp packaging/mdm/workspace-one/s1trust-sensor.ps1 "$STAGE/mdm/workspace-one/"
cp packaging/windows/s1trust.wxs "$STAGE/s1trust.wxs"
MSI=$OUT/s1trust-$VERSION-x64.msi
# wixl resolves File/@Source relative to the working directory and rejects absolute
# paths, so it runs inside the staging folder.
(cd "$STAGE" && wixl -a x64 -D "Version=$VERSION" -D SourceDir=. -o "$MSI" s1trust.wxs)
echo "$MSI"
