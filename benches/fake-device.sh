# shellcheck shell=bash
# The fake device both benchmark harnesses measure on (sourced, not run): the fixture
# laptop CONTOSO-LT-0142 of the emulator's bundled records (serial PF2ABCDE, agent UUID
# a3f1c9e2b7d84e6f9a0b1c2d3e4f5a6b), as s1trust reads a Linux device.

# fake_device_files DIR: writes the DMI serial and a stand-in sentinelctl under DIR.
fake_device_files() {
  mkdir -p "$1/dmi" "$1/opt/sentinelone/bin"
  echo PF2ABCDE > "$1/dmi/product_serial"
  cat > "$1/opt/sentinelone/bin/sentinelctl" <<'SH'
#!/bin/sh
case "$1 $2" in
  "management status") printf 'Connectivity            On\nURL                     https://usea1-contoso.sentinelone.net\nUUID                    a3f1c9e2b7d84e6f9a0b1c2d3e4f5a6b\n' ;;
  "version ") printf 'Agent version: 24.1.4.257\nSentinelCTL version: 24.1.4.257\n' ;;
  *) exit 1 ;;
esac
SH
  chmod 0755 "$1/opt/sentinelone/bin/sentinelctl"
}

# fake_device_mount DIR: inside a private mount namespace (unshare -m), puts DIR's
# files where s1trust reads them; the host's /sys and /opt are untouched.
fake_device_mount() {
  mount -t tmpfs -o mode=0755 none /sys/class
  mkdir -p /sys/class/dmi/id
  cp "$1/dmi/product_serial" /sys/class/dmi/id/product_serial
  chmod 0400 /sys/class/dmi/id/product_serial
  mount -t tmpfs -o mode=0755 none /opt
  cp -a "$1/opt/sentinelone" /opt/sentinelone
}
