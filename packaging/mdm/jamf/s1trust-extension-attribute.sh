#!/bin/sh
# Jamf Pro extension attribute (macOS): <result>trusted|not_trusted|unknown</result>.
if [ -x /usr/local/bin/s1trust ]; then
    exec /usr/local/bin/s1trust check --snapshot --format jamf
fi
echo '<result>not_installed</result>'
