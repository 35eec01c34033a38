#!/bin/bash
# Removes s1trust from this Mac (installed as /usr/local/share/s1trust/uninstall.sh;
# macOS packages have no uninstaller of their own).
#
#   sudo /usr/local/share/s1trust/uninstall.sh           # program, daemon, docs
#   sudo /usr/local/share/s1trust/uninstall.sh --purge   # also config, API tokens, snapshot, logs
set -euo pipefail

purge=false
case "${1-}" in
    "") ;;
    --purge) purge=true ;;
    *) echo "usage: sudo $0 [--purge]" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
    echo "s1trust uninstall: run as root: sudo $0 ${1-}" >&2
    exit 2
fi

# Every file of the package payload (patterns; .ci/packages-pkg checks this list
# against the payload built by build-pkg.sh).
PAYLOAD=(
    /usr/local/bin/s1trust
    "/usr/local/share/man/man1/s1trust*.1"
    /usr/local/share/zsh/site-functions/_s1trust
    /usr/local/etc/bash_completion.d/s1trust
    /usr/local/share/fish/vendor_completions.d/s1trust.fish
    /usr/local/share/s1trust/config.example.toml
    /usr/local/share/s1trust/uninstall.sh
    "/usr/local/share/s1trust/mdm/*/*"
    /Library/LaunchDaemons/com.s1trust.refresh.plist
    /Library/LaunchDaemons/com.s1trust.attest.plist
    /private/etc/newsyslog.d/s1trust.conf
)

/bin/launchctl bootout system/com.s1trust.refresh >/dev/null 2>&1 || true
/bin/launchctl bootout system/com.s1trust.attest >/dev/null 2>&1 || true
for pattern in "${PAYLOAD[@]}"; do
    # Unquoted on purpose: the man page pattern is a glob.
    # shellcheck disable=SC2086
    rm -f $pattern
done
rmdir /usr/local/share/s1trust/mdm/* /usr/local/share/s1trust/mdm /usr/local/share/s1trust 2>/dev/null || true
/usr/sbin/pkgutil --forget com.s1trust.pkg >/dev/null 2>&1 || true

if $purge; then
    rm -rf "/Library/Application Support/s1trust" /Library/Logs/s1trust
    echo "s1trust removed, with its configuration, API tokens, snapshot and logs"
else
    echo "s1trust removed; configuration, tokens and snapshot kept in /Library/Application Support/s1trust (--purge deletes them)"
fi
