#!/bin/sh
# Workspace ONE sensor (macOS, response type String): trusted, not_trusted or unknown.
if [ -x /usr/local/bin/s1trust ]; then
    exec /usr/local/bin/s1trust check --snapshot --format workspace-one
fi
echo 'not_installed'
