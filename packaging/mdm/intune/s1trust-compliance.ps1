# Intune custom compliance discovery script (Windows): one line of JSON, judged by rules.json
# (Intune reads what ConvertTo-Json -Compress prints).
& "C:\Program Files\s1trust\s1trust.exe" check --snapshot --format intune | ConvertFrom-Json | ConvertTo-Json -Compress
